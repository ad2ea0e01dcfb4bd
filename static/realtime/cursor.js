// @ts-check
// The resume cursor: the last seq applied to the page, and the seqs received but not applied yet.
// A reconnect resumes from `resumeFrom()`, so a frame that was received but never applied comes
// again; a seq already applied or already waiting is not taken twice.

export class ResumeCursor {
  /** @param {number} lastSeq the seq the page was rendered at (`body[data-seq]`) */
  constructor(lastSeq) {
    this.lastSeq = lastSeq;
    /** @type {Set<number>} */
    this.pending = new Set();
  }

  /**
   * A change of a topic the page shows.
   * @param {number} seq
   * @returns {boolean} true when it is new and waits to be applied; false for a duplicate or a
   *   seq the page already has (a replay, or a frame the last resync's snapshot contains)
   */
  receive(seq) {
    if (seq <= this.lastSeq || this.pending.has(seq)) return false;
    this.pending.add(seq);
    return true;
  }

  /**
   * A change of a topic the page does not render (a script subscribed to it): there is nothing
   * to apply, so it counts as applied unless older frames are still waiting.
   * @param {number} seq
   */
  pass(seq) {
    if (!this.pending.size) this.lastSeq = Math.max(this.lastSeq, seq);
  }

  /**
   * The `since` of a subscribe: the seq before the oldest waiting frame, else the last applied.
   * @returns {number}
   */
  resumeFrom() {
    return this.pending.size ? Math.min(...this.pending) - 1 : this.lastSeq;
  }

  /**
   * The waiting seqs, oldest first.
   * @returns {number[]}
   */
  batch() {
    return [...this.pending].sort((a, b) => a - b);
  }

  /**
   * These seqs are on the page now.
   * @param {number[]} seqs ascending
   */
  applied(seqs) {
    for (const seq of seqs) this.pending.delete(seq);
    if (seqs.length) this.lastSeq = Math.max(this.lastSeq, seqs[seqs.length - 1]);
  }

  /**
   * Start again from a fresh snapshot (resync): what was waiting is in it, or comes again.
   * @param {number} seq the snapshot's seq
   */
  reset(seq) {
    this.pending.clear();
    this.lastSeq = seq;
  }

  /** @returns {number} how many frames wait to be applied */
  get waiting() {
    return this.pending.size;
  }
}

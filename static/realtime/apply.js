// @ts-check
// Putting change frames on the page. Their seqs are collected for `batchMs` (each new frame
// restarts the wait), then POSTed to the live endpoint, which answers with server-rendered rows,
// counters and at most one toast as htmx out-of-band swaps. Lists are trimmed and refilled, and
// only then do the seqs count as applied, so a retry after a failure is harmless (applying a
// batch twice renders the same thing). `resync` re-renders #main from a fresh copy of the page.

import { listSizes, refillLists, trimLists } from "./lists.js";
import { Timers } from "./timers.js";

/**
 * @typedef {object} ApplierOptions
 * @property {import("./cursor.js").ResumeCursor} cursor
 * @property {import("./timers.js").Clock} clock
 * @property {{batchMs: number, liveRetryMs: number}} config
 * @property {import("./http.js").PortalHttp} http
 * @property {import("./lists.js").Htmx} htmx
 * @property {Document} document
 * @property {string} liveUrl
 * @property {() => string[]} [pageTopics] the topics whose rows the page shows (the others only toast and count)
 * @property {() => string} pageUrl the page's own URL, fetched again on `resync`
 * @property {(html: string) => Document} parseHtml
 * @property {(seqs: number[]) => void} onApplied a batch is on the page
 * @property {(snapshot: Document) => void} onResynced #main shows the snapshot: subscribe again from its seq
 * @property {() => void} onResyncFailed
 * @property {() => void} onSessionEnded a request came back with the login page or a 401
 * @property {(...args: unknown[]) => void} [warn]
 */

export class ChangeApplier {
  /** @param {ApplierOptions} options */
  constructor(options) {
    this.cursor = options.cursor;
    this.config = options.config;
    this.http = options.http;
    this.htmx = options.htmx;
    this.document = options.document;
    this.liveUrl = options.liveUrl;
    this.pageTopics = options.pageTopics;
    this.pageUrl = options.pageUrl;
    this.parseHtml = options.parseHtml;
    this.onApplied = options.onApplied;
    this.onResynced = options.onResynced;
    this.onResyncFailed = options.onResyncFailed;
    this.onSessionEnded = options.onSessionEnded;
    this.warn = options.warn || ((...args) => console.warn(...args));
    this.timers = new Timers(options.clock);
    this.inflight = false; // one POST at a time: batches are applied in seq order
    this.resyncing = false;
    this.stopped = false;
  }

  /** Flush after `ms` (the batch window by default), restarting the wait. */
  schedule(ms = this.config.batchMs) {
    if (this.stopped) return;
    this.timers.after("batch", ms, () => void this.flush());
  }

  /** Nothing more is applied (the session ended, or the page is being left). */
  stop() {
    this.stopped = true;
    this.timers.clearAll();
  }

  /** POST the waiting seqs and swap in the answer. */
  async flush() {
    this.timers.clear("batch");
    if (this.stopped || this.inflight || this.resyncing || !this.cursor.waiting) return;
    this.inflight = true;
    const seqs = this.cursor.batch();
    try {
      const form = new URLSearchParams({ seqs: seqs.join(",") });
      if (this.pageTopics) form.set("topics", this.pageTopics().join(" "));
      // The updates feed's first page takes its new entries with the rows.
      if (this.document.querySelector("[data-live-feed]")) form.set("feed", "1");
      const response = await this.http.post(this.liveUrl, form);
      if (this.http.ended(response)) {
        this.onSessionEnded();
        return;
      }
      if (!response.ok) throw new Error(`live fragments: HTTP ${response.status}`);
      const text = await response.text();
      const body = this.document.body;
      const before = listSizes(this.document);
      if (text.trim()) await this.htmx.swap({ text, swap: "none", sourceElement: body, target: body });
      this.cursor.applied(seqs);
      body.dataset.seq = String(this.cursor.lastSeq);
      trimLists(this.document);
      await refillLists(before, { root: this.document, http: this.http, htmx: this.htmx, source: body, warn: this.warn });
      this.onApplied(seqs);
    } catch (err) {
      this.warn("realtime:", err);
      this.schedule(this.config.liveRetryMs);
    } finally {
      this.inflight = false;
      if (this.cursor.waiting && !this.timers.has("batch")) this.schedule();
    }
  }

  /** The server cannot replay from our seq: re-render the page's sections and start again. */
  async resync() {
    if (this.resyncing || this.stopped) return;
    this.resyncing = true;
    try {
      const response = await this.http.get(this.pageUrl());
      if (this.http.ended(response)) {
        this.onSessionEnded();
        return;
      }
      if (!response.ok) throw new Error(`resync: HTTP ${response.status}`);
      const text = await response.text();
      const snapshot = this.parseHtml(text);
      const seq = Number(snapshot.body.dataset.seq);
      if (!Number.isFinite(seq)) throw new Error("resync: the page carries no data-seq");
      const main = this.document.getElementById("main");
      await this.htmx.swap({ text, select: "#main", swap: "outerHTML", target: main });
      this.cursor.reset(seq);
      this.document.body.dataset.seq = String(seq);
      this.onResynced(snapshot);
    } catch (err) {
      this.warn("realtime:", err);
      this.onResyncFailed(); // reconnect and try again with backoff
    } finally {
      this.resyncing = false;
    }
  }
}

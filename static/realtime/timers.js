// @ts-check
// The clock the client runs on, passed in so that tests can drive time by hand, and named timers
// over it (one "retry", one "ping", ...: setting a name again replaces its timer).

/**
 * @typedef {object} Clock
 * @property {() => number} now milliseconds, as Date.now()
 * @property {(fn: () => void, ms: number) => unknown} setTimeout
 * @property {(id: unknown) => void} clearTimeout
 * @property {(fn: () => void, ms: number) => unknown} setInterval
 * @property {(id: unknown) => void} clearInterval
 */

/** @type {Clock} */
export const browserClock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(/** @type {any} */ (id)),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (id) => clearInterval(/** @type {any} */ (id)),
});

export class Timers {
  /** @param {Clock} clock */
  constructor(clock) {
    this.clock = clock;
    /** @type {Map<string, {id: unknown, repeat: boolean}>} */
    this.running = new Map();
  }

  /**
   * Run `fn` once after `ms`, replacing the timer of that name.
   * @param {string} name
   * @param {number} ms
   * @param {() => void} fn
   */
  after(name, ms, fn) {
    this.clear(name);
    const id = this.clock.setTimeout(() => {
      if (this.running.get(name)?.id === id) this.running.delete(name);
      fn();
    }, ms);
    this.running.set(name, { id, repeat: false });
  }

  /**
   * Run `fn` every `ms`, replacing the timer of that name.
   * @param {string} name
   * @param {number} ms
   * @param {() => void} fn
   */
  every(name, ms, fn) {
    this.clear(name);
    this.running.set(name, { id: this.clock.setInterval(fn, ms), repeat: true });
  }

  /** @param {string} name */
  has(name) {
    return this.running.has(name);
  }

  /** @param {string} name */
  clear(name) {
    const timer = this.running.get(name);
    if (!timer) return;
    this.running.delete(name);
    if (timer.repeat) this.clock.clearInterval(timer.id);
    else this.clock.clearTimeout(timer.id);
  }

  clearAll() {
    for (const name of [...this.running.keys()]) this.clear(name);
  }
}

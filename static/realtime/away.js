// @ts-check
// "While you were away" (issue 11): when a tab comes back (it was hidden, or its socket was down
// and is live again) and changes arrived meanwhile, one summary toast says what they were and
// links to the updates feed. The server words it (GET body[data-summary-url]?after=<seq>, an
// htmx out-of-band fragment, or 204 for nothing the customer has not seen); here we only decide
// when to ask. The toasts those changes made while nobody looked, the generic "N updates"
// catch-up among them, are taken away: the summary replaces them. (A new login's summary comes
// with the first page: portal/context.py.)

import { Timers } from "./timers.js";

export const SETTLE_MS = 800; // the catch-up after a reconnect lands within this of going live

/**
 * @typedef {object} AwayOptions
 * @property {() => number} lastSeq the seq this page has applied
 * @property {(after: number) => Promise<string>} fetchSummary the fragment, "" for none
 * @property {(html: string) => Promise<void> | void} show put the fragment on the page
 * @property {() => Element[]} toasts the toasts on the page now
 * @property {() => boolean} [busy] changes are received but not yet on the page (a slow catch-up)
 * @property {import("./timers.js").Clock} clock
 * @property {number} [settleMs]
 * @property {(...args: unknown[]) => void} [warn]
 */

export class AwayWatcher {
  /** @param {AwayOptions} options */
  constructor(options) {
    this.options = options;
    this.timers = new Timers(options.clock);
    this.settleMs = options.settleMs ?? SETTLE_MS;
    this.warn = options.warn || ((...args) => console.warn(...args));
    /** @type {number | null} the seq when the customer stopped looking */
    this.awayFrom = null;
    /** @type {Set<Element>} toasts already there then: they were seen */
    this.seenToasts = new Set();
    this.hidden = false;
    this.live = false;
  }

  /** The customer stops looking: the tab is hidden, or the socket is down. */
  #leave() {
    this.timers.clear("settle");
    if (this.awayFrom !== null) return;
    this.awayFrom = this.options.lastSeq();
    this.seenToasts = new Set(this.options.toasts());
  }

  /** @param {boolean} hidden document.hidden after a visibilitychange */
  visibility(hidden) {
    this.hidden = hidden;
    if (hidden) this.#leave();
    else this.#back();
  }

  /** @param {string} state the status components' state (`portal:realtime-state`) */
  connection(state) {
    const wasLive = this.live;
    this.live = state === "live";
    if (this.live && !wasLive) this.#back();
    else if (!this.live && wasLive && ["reconnecting", "offline", "connecting"].includes(state)) this.#leave();
  }

  /** A batch of changes is on the page: a catch-up may still be landing, so wait a little more. */
  applied() {
    if (this.timers.has("settle")) this.#back();
  }

  #back() {
    if (this.awayFrom === null || this.hidden || !this.live) return;
    this.timers.after("settle", this.settleMs, () => void this.summarise());
  }

  async summarise() {
    const after = this.awayFrom;
    if (after === null || this.hidden || !this.live) return;
    if (this.options.busy?.()) {
      this.#back(); // the catch-up is still being applied: its toast must land before we replace it
      return;
    }
    this.awayFrom = null;
    if (this.options.lastSeq() <= after) return; // nothing arrived
    let html = "";
    try {
      html = await this.options.fetchSummary(after);
    } catch (err) {
      this.warn("realtime: away summary", err);
      return;
    }
    if (!html.trim()) return;
    for (const toast of this.options.toasts()) {
      if (!this.seenToasts.has(toast) && !toast.closest("[data-away-summary]") && !toast.matches("[data-toast-error]")) {
        toast.remove();
      }
    }
    await this.options.show(html);
  }
}

/**
 * Follow this page's tab and connection, and show the summary when the customer is back.
 * @param {object} env
 * @param {Document} env.document
 * @param {import("./http.js").PortalHttp} env.http
 * @param {import("./lists.js").Htmx} env.htmx
 * @param {() => number} env.lastSeq
 * @param {() => boolean} env.busy
 * @param {import("./timers.js").Clock} env.clock
 * @returns {AwayWatcher | null}
 */
export function watchAway({ document, http, htmx, lastSeq, busy, clock }) {
  const url = document.body.dataset.summaryUrl;
  if (!url) return null;
  const region = () => document.getElementById("toasts");
  const watcher = new AwayWatcher({
    lastSeq,
    busy,
    clock,
    toasts: () => [...(region()?.querySelectorAll(".toast") || [])],
    async fetchSummary(after) {
      const response = await http.get(`${url}?after=${after}`);
      if (!response.ok) throw new Error(`away summary: HTTP ${response.status}`);
      return response.status === 204 ? "" : response.text();
    },
    show: (text) => htmx.swap({ text, swap: "none", sourceElement: document.body, target: document.body }),
  });
  if (document.hidden) watcher.visibility(true); // opened in a background tab: away from the start
  document.addEventListener("visibilitychange", () => watcher.visibility(document.hidden));
  document.addEventListener("portal:realtime-state", (event) => {
    watcher.connection(/** @type {CustomEvent<{state: string}>} */ (event).detail.state);
  });
  document.addEventListener("portal:applied", () => watcher.applied());
  return watcher;
}

// @ts-check
// The connection's state on the page: every live `[data-connection-status]` and
// `[data-subscription-status]` (not `[data-static]` ones), and `#realtime-announcer`, the page's
// one live region, which says each state change once. The words come from the components'
// `data-label-*`, `data-description-*`, `data-text-*` and `data-announce-*` attributes.

import { Timers } from "./timers.js";

/** @typedef {import("./subscriptions.js").ClientState} ClientState */

/**
 * @typedef {object} StatusView
 * @property {ClientState} state
 * @property {string | null} error shown as the components' title
 * @property {number} seconds to the next reconnect, for "{s}" in the texts
 * @property {(topic: string) => string} topicState a topic's line in the subscription status
 */

/**
 * Whole seconds until `at`, never below 0.
 * @param {number} at
 * @param {number} now
 * @returns {number}
 */
export function secondsUntil(at, now) {
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** @param {string} name */
function capitalised(name) {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * @param {Element | null} el
 * @param {string} text
 */
function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

/**
 * Bring every live status component in line with `view`.
 * @param {ParentNode} root
 * @param {StatusView} view
 */
export function renderStatus(root, view) {
  const { state, error } = view;
  const seconds = String(view.seconds);
  const key = capitalised(state);
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll("[data-connection-status]:not([data-static])"))) {
    el.dataset.state = state;
    setText(el.querySelector("[data-conn-label]"), (el.dataset[`label${key}`] || state).replace("{s}", seconds));
    setText(el.querySelector("[data-conn-description]"), (el.dataset[`description${key}`] || "").replace("{s}", seconds));
    const retry = /** @type {HTMLElement | null} */ (el.querySelector("[data-conn-retry]"));
    if (retry) retry.hidden = state !== "reconnecting" && state !== "offline";
    el.title = error || "";
  }
  for (const list of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll("[data-subscription-status]:not([data-static])"))) {
    let active = 0;
    for (const item of /** @type {NodeListOf<HTMLElement>} */ (list.querySelectorAll("[data-topic]"))) {
      const topicState = view.topicState(item.dataset.topic || "");
      if (topicState === "live") active += 1;
      item.dataset.state = topicState;
      setText(item.querySelector("[data-subscription-state]"), list.dataset[`text${capitalised(topicState)}`] || topicState);
    }
    setText(list.querySelector("[data-active-count]"), String(active));
    list.dataset.state = state; // the compact form's one dot
  }
}

/** Says each state change once in `#realtime-announcer`, however many components show it. */
export class Announcer {
  /** @param {Document} doc */
  constructor(doc) {
    this.doc = doc;
    // The last state said aloud: the first "live" after a page load is not news.
    /** @type {string} */
    this.announced = "live";
  }

  /**
   * @param {ClientState} state
   * @returns {boolean} whether anything was said
   */
  announce(state) {
    const el = this.doc.getElementById("realtime-announcer");
    const text = el?.dataset[`announce${capitalised(state)}`];
    if (!el || !text || state === this.announced) return false;
    this.announced = state;
    el.textContent = text;
    return true;
  }
}

/** The client's state as the page shows it: the components, the countdown, the announcer. */
export class StatusDisplay {
  /**
   * @param {object} options
   * @param {Document} options.document
   * @param {import("./timers.js").Clock} options.clock
   * @param {() => number} options.retryAt when the next reconnect runs (clock time)
   * @param {(topic: string, state: ClientState) => string} options.topicState
   * @param {(name: string, detail: unknown) => void} options.emit dispatch a DOM event
   */
  constructor({ document, clock, retryAt, topicState, emit }) {
    this.document = document;
    this.clock = clock;
    this.retryAt = retryAt;
    this.topicState = topicState;
    this.emit = emit;
    this.announcer = new Announcer(document);
    this.timers = new Timers(clock);
    /** @type {ClientState} */
    this.state = "connecting";
    /** @type {string | null} */
    this.error = null;
  }

  /**
   * Show `next`; announce it and emit `portal:realtime-state` if it changed.
   * @param {ClientState} next
   * @param {string} [why] the error's message (the components' title)
   */
  set(next, why) {
    const changed = next !== this.state;
    this.state = next;
    this.error = next === "error" ? why || this.error || "Live updates are unavailable." : null;
    this.render();
    if (!changed) return;
    this.announcer.announce(next);
    this.emit("portal:realtime-state", { state: next, error: this.error });
  }

  /** Count the seconds to the next reconnect down on screen, or stop counting. */
  countdown(/** @type {boolean} */ running) {
    if (running) this.timers.every("countdown", 1000, () => this.render());
    else this.timers.clear("countdown");
  }

  render() {
    const state = this.state;
    renderStatus(this.document, {
      state,
      error: this.error,
      seconds: secondsUntil(this.retryAt(), this.clock.now()),
      topicState: (topic) => this.topicState(topic, state),
    });
  }
}

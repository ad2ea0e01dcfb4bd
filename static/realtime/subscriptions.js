// @ts-check
// Which topics this page's socket carries: every topic the server knows (for notifications), of
// which the page's own (body[data-topics]) get rows, those scripts added with
// `portalRealtime.subscribe()`, which of them the server confirmed, and which topics
// the server knows at all (its `hello` says; until then a script's topic is taken provisionally).

/** @typedef {import("./frames.js").Topic} Topic */
/** @typedef {"connecting" | "live" | "reconnecting" | "offline" | "error"} ClientState */

export class Subscriptions {
  /** @param {Topic[]} pageTopics */
  constructor(pageTopics) {
    this.page = new Set(pageTopics);
    this.wanted = new Set(pageTopics);
    /** @type {Set<Topic>} every topic the server knows: each page hears them all for notifications */
    this.notify = new Set();
    /** @type {Set<Topic>} what the server's last `subscribed` listed on this socket */
    this.confirmed = new Set();
    /** @type {Set<Topic> | null} the server's topics, from `hello`; null before the first */
    this.known = null;
  }

  /**
   * @param {Topic} topic
   * @returns {boolean}
   */
  isPageTopic(topic) {
    return this.page.has(topic);
  }

  /**
   * Whether a script may subscribe to `topic`: "unknown" only once the server has said so.
   * @param {Topic} topic
   * @returns {"known" | "provisional" | "unknown"}
   */
  check(topic) {
    if (this.known === null) return "provisional";
    return this.known.has(topic) ? "known" : "unknown";
  }

  /**
   * @param {Topic} topic
   * @returns {boolean} true when the socket did not carry it yet (send a `subscribe`)
   */
  want(topic) {
    if (this.wanted.has(topic)) return false;
    this.wanted.add(topic);
    return true;
  }

  /**
   * A script no longer listens to `topic`; the page's own topics stay.
   * @param {Topic} topic
   * @returns {boolean} true when the socket should stop carrying it (send an `unsubscribe`)
   */
  release(topic) {
    if (this.page.has(topic) || this.notify.has(topic) || !this.wanted.has(topic)) return false;
    this.wanted.delete(topic);
    return true;
  }

  /**
   * The server's `hello`: remember its topics and drop the wanted ones it does not know, so
   * that the page's `subscribe` (all or nothing on the server) still goes through.
   * @param {Topic[] | undefined} topics
   * @returns {Topic[]} the topics dropped
   */
  learn(topics) {
    if (!Array.isArray(topics)) return [];
    const known = new Set(topics);
    this.known = known;
    const unknown = [...this.wanted].filter((topic) => !known.has(topic));
    for (const topic of unknown) {
      this.wanted.delete(topic);
      this.page.delete(topic);
    }
    // Toasts, the nav's unread count and points follow every topic on every page; the live
    // endpoint renders rows for the page's own topics only.
    this.notify = known;
    this.wanted = new Set(known); // in the server's order
    return unknown;
  }

  /** @param {Topic[]} topics the server's `subscribed` */
  confirm(topics) {
    this.confirmed = new Set(topics);
  }

  /** The socket closed: nothing is confirmed on the next one yet. */
  reset() {
    this.confirmed = new Set();
  }

  /**
   * A topic's line in the multi-subscription status.
   * @param {Topic} topic
   * @param {ClientState} state the connection's
   * @returns {ClientState | "inactive"}
   */
  stateOf(topic, state) {
    if (!this.wanted.has(topic)) return "inactive";
    if (state !== "live") return state;
    return this.confirmed.has(topic) ? "live" : "connecting";
  }

  /**
   * @param {ClientState} state the connection's
   * @returns {number} the topics subscribed and live on this socket
   */
  active(state) {
    return state === "live" ? [...this.wanted].filter((topic) => this.confirmed.has(topic)).length : 0;
  }
}

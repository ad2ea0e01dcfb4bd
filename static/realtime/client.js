// @ts-check
// The portal page's realtime client: one Connection carrying the page's topics (and any a script
// adds), each frame routed to the JS API's handlers and applied to the page, and the connection's
// state on the status components. Everything it touches comes in through `ClientOptions`, so
// tests run it with a fake socket, clock, fetch and document.

import { ChangeApplier } from "./apply.js";
import { CloseCode } from "./backoff.js";
import { Connection } from "./connection.js";
import { ResumeCursor } from "./cursor.js";
import { loginPageFor } from "./http.js";
import { TopicListeners } from "./listeners.js";
import { StatusDisplay } from "./status.js";
import { Subscriptions } from "./subscriptions.js";

/** @typedef {import("./subscriptions.js").ClientState} ClientState */
/** @typedef {import("./frames.js").ChangeFrame} ChangeFrame */

// Shown as the status components' title in the error state.
const ERRORS = {
  ended: "Your session ended. Please log in again.",
  forbidden: "This login may not see these updates.",
};

/**
 * @typedef {object} ClientOptions
 * @property {{topics: string[], seq: number, liveUrl: string}} page body[data-topics], [data-seq], [data-live-url]
 * @property {import("./config.js").RealtimeConfig} config
 * @property {string} url the socket's
 * @property {new (url: string) => import("./connection.js").SocketLike} WebSocket
 * @property {import("./timers.js").Clock} clock
 * @property {() => number} [random]
 * @property {() => boolean} [isOnline]
 * @property {import("./http.js").PortalHttp} http
 * @property {import("./lists.js").Htmx} htmx
 * @property {Document} document
 * @property {{href: string, pathname: string, search: string}} location
 * @property {(html: string) => Document} parseHtml
 * @property {(name: string, detail: unknown) => void} emit dispatch a DOM event on the document
 * @property {(url: string) => void} navigate
 * @property {Pick<Console, "warn" | "error">} [log]
 */

export class RealtimeClient {
  /** @param {ClientOptions} options */
  constructor(options) {
    const { page, config, clock, document } = options;
    this.document = document;
    this.location = options.location;
    this.clock = clock;
    this.http = options.http;
    this.emit = options.emit;
    this.navigate = options.navigate;
    this.log = options.log || console;
    /** @type {ChangeFrame | null} */
    this.latestUpdate = null;
    /** @type {number | null} */
    this.unreadCount = null;
    /** @type {number | null} */
    this.totalPoints = null;
    this.cursor = new ResumeCursor(page.seq);
    this.topics = new Subscriptions(page.topics);
    this.listeners = new TopicListeners((message, err) => this.log.error(message, err));
    this.display = new StatusDisplay({
      document,
      clock,
      retryAt: () => this.connection.retryAt,
      topicState: (topic, state) => this.topics.stateOf(topic, state),
      emit: this.emit,
    });
    this.connection = new Connection({
      url: options.url,
      WebSocket: options.WebSocket,
      clock,
      random: options.random,
      isOnline: options.isOnline,
      config,
      onFrame: (frame) => this.#onFrame(frame),
      onStatus: (status) => this.#onStatus(status),
    });
    this.applier = new ChangeApplier({
      cursor: this.cursor,
      clock,
      config,
      http: this.http,
      htmx: options.htmx,
      document,
      liveUrl: page.liveUrl,
      pageTopics: () => [...this.topics.page],
      pageUrl: () => this.location.href,
      parseHtml: options.parseHtml,
      onApplied: (seqs) => this.#applied(seqs),
      onResynced: (snapshot) => {
        this.readState(snapshot);
        this.render();
        this.#subscribeWanted();
      },
      onResyncFailed: () => this.connection.drop(),
      onSessionEnded: () => this.connection.stop(CloseCode.UNAUTHENTICATED),
      warn: (...args) => this.log.warn(...args),
    });
  }

  /** @returns {ClientState} */
  get state() {
    return this.display.state;
  }

  /** @returns {string | null} */
  get error() {
    return this.display.error;
  }

  start() {
    this.readState(this.document);
    this.render();
    this.connection.connect();
  }

  /** This page is going away on purpose (logging out): close quietly, never retry or redirect. */
  leave() {
    this.applier.stop();
    this.connection.stop(CloseCode.NORMAL);
  }

  /**
   * Listen to a topic's changes (`portalRealtime.subscribe`). Before the server's `hello` any
   * topic is taken provisionally; one the hello does not list is then dropped with a console
   * error. After it, an unknown topic throws.
   * @param {string} topic
   * @param {import("./listeners.js").TopicHandler} handler
   * @returns {() => void} unsubscribe
   */
  subscribe(topic, handler) {
    if (this.topics.check(topic) === "unknown") {
      throw new Error(`Unknown topic ${topic}; known: ${[...(this.topics.known || [])].join(", ")}`);
    }
    this.listeners.add(topic, handler);
    if (this.topics.want(topic)) {
      // A topic the page did not render starts from now: there is no snapshot to catch up.
      if (this.connection.status === "open") this.connection.send({ type: "subscribe", topics: [topic] });
      this.render();
    }
    return () => {
      if (this.listeners.remove(topic, handler) && this.topics.release(topic)) {
        this.connection.send({ type: "unsubscribe", topics: [topic] });
        this.render();
      }
    };
  }

  /**
   * Take the unread count and points balance from `#realtime-state` (the page, or a snapshot).
   * @param {ParentNode} root
   */
  readState(root) {
    const el = /** @type {HTMLElement | null} */ (root.querySelector("#realtime-state"));
    if (!el) return;
    if (el.dataset.unread !== undefined) this.unreadCount = Number(el.dataset.unread);
    if (el.dataset.points !== undefined) this.totalPoints = Number(el.dataset.points);
  }

  render() {
    this.display.render();
  }

  /** @param {import("./connection.js").ConnectionStatus} status */
  #onStatus(status) {
    if (status !== "open") this.topics.reset();
    this.display.countdown(status === "reconnecting");
    if (status === "connecting") {
      // While retrying, the badge keeps saying "reconnecting" until the server confirms.
      if (this.state !== "reconnecting") this.display.set("connecting");
    } else if (status === "reconnecting" || status === "offline") {
      this.display.set(status);
    } else if (status === "stopped") {
      this.#stopped(this.connection.stopCode);
    }
  }

  /** @param {number | null} code */
  #stopped(code) {
    if (code === CloseCode.UNAUTHENTICATED) {
      // Logged out in another tab, or the session expired. (Logging out in this tab closed the
      // socket before the server could say 4401: see `leave`.)
      this.applier.stop();
      this.display.set("error", ERRORS.ended);
      this.navigate(loginPageFor(this.http.loginUrl, this.location));
    } else if (code === CloseCode.FORBIDDEN) {
      this.display.set("error", ERRORS.forbidden);
    }
  }

  /** @param {import("./frames.js").ServerFrame} frame */
  #onFrame(frame) {
    switch (frame.type) {
      case "hello":
        this.#learnTopics(frame.topics);
        this.#subscribeWanted();
        break;
      case "subscribed":
        this.topics.confirm(frame.topics || []);
        this.display.set("live");
        break;
      case "change":
        this.#onChange(frame);
        break;
      case "resync":
        void this.applier.resync();
        break;
      case "error":
        this.log.warn("realtime:", frame.code, frame.message);
        break;
    }
  }

  /** @param {string[] | undefined} topics the server's, from `hello` */
  #learnTopics(topics) {
    const dropped = this.topics.learn(topics);
    for (const topic of dropped) {
      const handlers = this.listeners.drop(topic);
      const known = [...(this.topics.known || [])].join(", ");
      this.log.error(`realtime: unknown topic ${topic} dropped with its ${handlers} handler(s); known: ${known}`);
    }
    if (dropped.length) this.render();
  }

  #subscribeWanted() {
    if (!this.topics.wanted.size) return;
    this.connection.send({ type: "subscribe", topics: [...this.topics.wanted], since: this.cursor.resumeFrom() });
  }

  /** @param {ChangeFrame} frame */
  #onChange(frame) {
    this.latestUpdate = frame;
    this.listeners.notify(frame);
    this.emit("portal:change", frame);
    if (!this.topics.wanted.has(frame.topic)) this.cursor.pass(frame.seq);
    else if (this.cursor.receive(frame.seq)) this.applier.schedule();
  }

  /** @param {number[]} seqs */
  #applied(seqs) {
    this.readState(this.document);
    this.render();
    this.emit("portal:applied", { seqs, lastSeq: this.cursor.lastSeq });
  }
}

// @ts-check
// One realtime socket and everything about keeping it: reconnecting with backoff and jitter
// (1012: soon, 4401/4403: never), the heartbeat (no pong in time drops the socket), pausing while
// the tab is hidden and coming back at once when it is visible or the browser is online again.
// What the frames mean is the owner's business (`onFrame`); so is showing the state (`onStatus`).
// The portal's client (client.js) and the admin's staff presence both run on it.

import { afterClose, backoffDelay, CloseCode, RESTART_WINDOW_MS, restartDelay } from "./backoff.js";
import { parseFrame } from "./frames.js";
import { Timers } from "./timers.js";

/**
 * @typedef {"idle" | "connecting" | "open" | "reconnecting" | "offline" | "stopped"} ConnectionStatus
 *   open: the server said hello. stopped: never again (4401, 4403, or `stop()`), see `stopCode`.
 */

/**
 * @typedef {object} SocketLike the part of a browser WebSocket the connection uses
 * @property {number} readyState
 * @property {(data: string) => void} send
 * @property {(code?: number) => void} close
 * @property {(type: string, listener: (event: any) => void) => void} addEventListener
 */

/**
 * @typedef {object} ConnectionOptions
 * @property {string} url
 * @property {new (url: string) => SocketLike} WebSocket
 * @property {import("./timers.js").Clock} clock
 * @property {() => number} [random] in [0, 1), for the jitter
 * @property {() => boolean} [isOnline] false when the browser knows it is offline
 * @property {import("./config.js").RealtimeConfig} config
 * @property {(frame: import("./frames.js").ServerFrame) => void} onFrame every frame, hello and pong included
 * @property {(status: ConnectionStatus) => void} [onStatus] on every status set, changed or not
 */

const OPEN = 1; // WebSocket.OPEN

/**
 * The socket's URL on the page's host: ws:// or wss:// like the page.
 * @param {{protocol: string, host: string}} location
 * @param {string} path
 * @param {Record<string, string>} [query]
 * @returns {string}
 */
export function socketUrl(location, path, query = {}) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const search = new URLSearchParams(query).toString();
  return `${scheme}://${location.host}${path}${search ? `?${search}` : ""}`;
}

export class Connection {
  /** @param {ConnectionOptions} options */
  constructor({ url, WebSocket, clock, random = Math.random, isOnline = () => true, config, onFrame, onStatus }) {
    this.url = url;
    this.WebSocket = WebSocket;
    this.clock = clock;
    this.random = random;
    this.isOnline = isOnline;
    this.config = config;
    this.onFrame = onFrame;
    this.onStatus = onStatus || (() => {});
    this.timers = new Timers(clock);
    /** @type {ConnectionStatus} */
    this.status = "idle";
    /** @type {SocketLike | null} */
    this.socket = null;
    this.attempt = 0; // failed attempts since the last hello: the backoff's exponent
    this.retryAt = 0; // when the scheduled reconnect runs (clock time)
    this.restartingUntil = 0; // after a 1012, until the server is back: retry at the restart pace
    this.paused = false; // closed because the tab was hidden: no retry until it is visible
    this.stopped = false;
    /** @type {number | null} why it stopped: 4401, 4403, or the code given to `stop()` */
    this.stopCode = null;
  }

  /** Open the socket unless one is open, it is stopped, or the browser is offline. */
  connect() {
    this.timers.clear("retry");
    if (this.stopped || this.socket) return;
    if (!this.isOnline()) {
      this.#set("offline");
      return;
    }
    this.#set("connecting");
    const ws = new this.WebSocket(this.url);
    this.socket = ws;
    ws.addEventListener("message", (event) => {
      if (ws !== this.socket) return;
      const frame = parseFrame(event.data);
      if (frame) this.#received(frame);
    });
    ws.addEventListener("close", (event) => this.#closed(ws, event.code));
  }

  /**
   * Send a frame if the socket is open.
   * @param {import("./frames.js").ClientFrame} frame
   * @returns {boolean} whether it was sent
   */
  send(frame) {
    if (!this.socket || this.socket.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Reconnect now with the backoff reset (the "Retry now" button). */
  reconnect() {
    if (this.stopped) return;
    this.paused = false;
    if (this.socket) this.drop();
    this.attempt = 0;
    this.connect();
  }

  /**
   * Connect at once, backoff reset, if no socket is open (browser online, back from bfcache).
   * A tab paused while hidden waits until it is shown.
   */
  wake() {
    if (this.stopped || this.socket || this.paused) return;
    this.attempt = 0;
    this.connect();
  }

  /** The browser went offline: the socket is as good as dead. */
  offline() {
    if (this.stopped) return;
    if (this.socket) this.drop();
    else this.#set("offline");
  }

  /** The tab was hidden: close the socket if it stays hidden for `hiddenCloseMs`. */
  hide() {
    this.timers.after("hidden", this.config.hiddenCloseMs, () => this.#pause());
  }

  /** The tab is visible again: reconnect at once if it was paused, and catch up from the cursor. */
  show() {
    this.timers.clear("hidden");
    if (!this.paused) return;
    this.paused = false;
    this.wake();
  }

  /** The page is going away (pagehide): close without retrying; `wake()` brings it back. */
  suspend() {
    const ws = this.socket;
    if (!ws) return;
    this.socket = null;
    this.timers.clear("ping");
    this.timers.clear("pong");
    ws.close(CloseCode.NORMAL);
  }

  /**
   * Close for good and never retry: `code` says why (1000 leaving on purpose, 4401 the session
   * ended). Does nothing if already stopped.
   * @param {number} [code]
   */
  stop(code = CloseCode.NORMAL) {
    if (this.stopped) return;
    this.stopped = true;
    this.stopCode = code;
    this.timers.clearAll();
    const ws = this.socket;
    this.socket = null;
    if (ws) ws.close(CloseCode.NORMAL);
    this.#set("stopped");
  }

  /** Give up on the socket now, without waiting for a closing handshake a dead peer never answers. */
  drop() {
    const ws = this.socket;
    if (!ws) return;
    this.#closed(ws, CloseCode.ABNORMAL);
    try {
      ws.close();
    } catch {
      /* already closed */
    }
  }

  /** @param {import("./frames.js").ServerFrame} frame */
  #received(frame) {
    if (frame.type === "hello") {
      this.attempt = 0;
      this.restartingUntil = 0;
      this.#startHeartbeat();
      this.#set("open");
    } else if (frame.type === "pong") {
      this.timers.clear("pong");
    }
    this.onFrame(frame);
  }

  /**
   * @param {SocketLike} ws
   * @param {number} code
   */
  #closed(ws, code) {
    if (ws !== this.socket) return; // a socket we already gave up on
    this.socket = null;
    this.timers.clear("ping");
    this.timers.clear("pong");
    const next = afterClose(code);
    if (next === "restart") this.restartingUntil = this.clock.now() + RESTART_WINDOW_MS;
    if (next === "login" || next === "stop") this.stop(code);
    else if (this.paused) this.#set("offline");
    else this.#schedule();
  }

  #schedule() {
    if (this.stopped) return;
    if (!this.isOnline()) {
      this.#set("offline");
      return;
    }
    // After a 1012, until the server is back: every 0.2-3 s, and not counted as a failed attempt.
    const restart = this.clock.now() < this.restartingUntil;
    const delay = restart ? restartDelay(this.random) : backoffDelay(this.attempt, this.config, this.random);
    if (!restart) this.attempt += 1;
    this.retryAt = this.clock.now() + delay;
    this.timers.after("retry", delay, () => this.connect());
    this.#set("reconnecting");
  }

  #startHeartbeat() {
    this.timers.clear("pong");
    this.timers.every("ping", this.config.pingMs, () => {
      if (this.send({ type: "ping" })) this.timers.after("pong", this.config.pongTimeoutMs, () => this.drop());
    });
  }

  // The seed's battery advice: a tab nobody looks at needs no socket.
  #pause() {
    if (this.stopped) return;
    this.paused = true;
    this.timers.clear("retry");
    if (this.socket) this.drop();
    else this.#set("offline");
  }

  /** @param {ConnectionStatus} status */
  #set(status) {
    this.status = status;
    this.onStatus(status);
  }
}

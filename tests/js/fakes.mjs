// Test doubles for the browser client's dependencies: a clock driven by hand, a WebSocket the
// test plays the server for, and an HTTP stub (the DOM's are in fake-dom.mjs). No npm packages:
// the client's modules take these as parameters.

import { sessionEnded } from "../../static/realtime/http.js";

export const TOPICS = ["profile", "jobs", "invoices", "messages", "loyalty"];

/** Let every promise chain that is ready run to its end (fakes answer at once). */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

export class FakeClock {
  constructor(start = 1_000_000) {
    this.time = start;
    this.nextId = 1;
    this.timers = new Map();
  }

  now() {
    return this.time;
  }

  setTimeout(fn, ms) {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn, every: 0 });
    return id;
  }

  setInterval(fn, ms) {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, fn, every: ms });
    return id;
  }

  clearTimeout(id) {
    this.timers.delete(id);
  }

  clearInterval(id) {
    this.timers.delete(id);
  }

  /** Move time on by `ms`, running each timer that falls due, in order. */
  advance(ms) {
    const end = this.time + ms;
    for (;;) {
      let due = null;
      for (const [id, timer] of this.timers) {
        if (timer.at <= end && (!due || timer.at < due[1].at)) due = [id, timer];
      }
      if (!due) break;
      const [id, timer] = due;
      this.time = timer.at;
      if (timer.every) timer.at += timer.every;
      else this.timers.delete(id);
      timer.fn();
    }
    this.time = end;
  }
}

/**
 * A WebSocket class whose instances the test drives from the server's side. With a clock, each
 * socket answers a ping with a pong 50 ms later, as a live server does (`answersPings = false`
 * plays a dead one).
 */
export function fakeSockets(clock = null) {
  const opened = [];
  class FakeWebSocket {
    static OPEN = 1;

    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.closedWith = null;
      this.listeners = {};
      this.answersPings = Boolean(clock);
      opened.push(this);
    }

    addEventListener(type, listener) {
      (this.listeners[type] ||= []).push(listener);
    }

    send(data) {
      if (this.readyState !== 1) throw new Error("InvalidStateError: not open");
      const frame = JSON.parse(data);
      this.sent.push(frame);
      if (frame.type === "ping" && this.answersPings) {
        clock.setTimeout(() => this.readyState === 1 && this.receive({ type: "pong", seq: 0 }), 50);
      }
    }

    close(code = 1005) {
      if (this.readyState === 3) return;
      this.closedWith = code;
      this.readyState = 3;
      this.fire("close", { code });
    }

    fire(type, event) {
      for (const listener of this.listeners[type] || []) listener(event);
    }

    // --- the server's side ---
    accept(hello = {}) {
      this.readyState = 1;
      this.fire("open", {});
      this.receive({ type: "hello", customer: 7, seq: 0, topics: TOPICS, ...hello });
      return this;
    }

    receive(frame) {
      this.fire("message", { data: typeof frame === "string" ? frame : JSON.stringify(frame) });
    }

    serverClose(code) {
      this.readyState = 3;
      this.fire("close", { code });
    }

    framesOf(type) {
      return this.sent.filter((frame) => frame.type === type);
    }
  }
  return {
    WebSocket: FakeWebSocket,
    opened,
    get last() {
      return opened[opened.length - 1];
    },
  };
}

/** A change frame as docs/protocol.md shows them. */
export function change(seq, topic = "jobs", op = "update", extra = {}) {
  const row = { id: seq, status: "confirmed" };
  return {
    type: "change",
    seq,
    topic,
    op,
    event: `${topic}.updated`,
    id: row.id,
    new: op === "delete" ? null : row,
    old: op === "insert" ? null : { ...row, status: "scheduled" },
    changed: ["status"],
    at: "2026-11-24T10:15:02+00:00",
    ...extra,
  };
}

/** HTTP as the client sees it: `respond(request)` answers; every request is kept. */
export function fakeHttp(loginUrl = "/portal/login/") {
  const http = {
    loginUrl,
    requests: [],
    respond: () => response(),
    async get(url) {
      const request = { method: "GET", url };
      http.requests.push(request);
      return http.respond(request);
    },
    async post(url, body) {
      const request = { method: "POST", url, body: String(body) };
      http.requests.push(request);
      return http.respond(request);
    },
    ended: (answer) => sessionEnded(answer, loginUrl),
    posts: () => http.requests.filter((request) => request.method === "POST"),
  };
  return http;
}

export function response({ status = 200, text = "", url = "http://portal.test/portal/live/", redirected = false } = {}) {
  return { status, ok: status >= 200 && status < 300, url, redirected, text: async () => text, json: async () => JSON.parse(text) };
}

/** The seqs a live POST asked for. */
export const postedSeqs = (request) => new URLSearchParams(request.body).get("seqs").split(",").map(Number);

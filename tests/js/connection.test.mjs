// The socket's upkeep: the heartbeat and its pong timeout, the pause while the tab is hidden,
// the browser's online/offline events, "Retry now", and leaving the page.

import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULT_CONFIG } from "../../static/realtime/config.js";
import { Connection, socketUrl } from "../../static/realtime/connection.js";
import { FakeClock, fakeSockets } from "./fakes.mjs";

function open({ online = true } = {}) {
  const clock = new FakeClock();
  const sockets = fakeSockets(clock);
  const env = { online };
  const frames = [];
  const statuses = [];
  const conn = new Connection({
    url: "ws://portal.test/ws/realtime/",
    WebSocket: sockets.WebSocket,
    clock,
    random: () => 0.5,
    isOnline: () => env.online,
    config: DEFAULT_CONFIG,
    onFrame: (frame) => frames.push(frame),
    onStatus: (status) => statuses.push(status),
  });
  conn.connect();
  sockets.last.accept();
  return { conn, clock, sockets, env, frames, statuses };
}

test("socketUrl follows the page's scheme and host", () => {
  assert.equal(socketUrl({ protocol: "http:", host: "a.test:8000" }, "/ws/realtime/"), "ws://a.test:8000/ws/realtime/");
  assert.equal(socketUrl({ protocol: "https:", host: "a.test" }, "/ws/realtime/", { customer: "7" }), "wss://a.test/ws/realtime/?customer=7");
});

test("every frame reaches the owner, hello included; noise is ignored", () => {
  const { sockets, frames, statuses } = open();
  sockets.last.receive("not json");
  sockets.last.receive({ no: "type" });
  sockets.last.receive({ type: "pong", seq: 3 });
  assert.deepEqual(
    frames.map((frame) => frame.type),
    ["hello", "pong"]
  );
  assert.deepEqual(statuses, ["connecting", "open"]);
});

test("pings every 25 s; a pong in time keeps the socket", () => {
  const { clock, sockets } = open();
  const ws = sockets.last;
  clock.advance(DEFAULT_CONFIG.pingMs);
  assert.deepEqual(ws.framesOf("ping"), [{ type: "ping" }]);
  clock.advance(DEFAULT_CONFIG.pongTimeoutMs * 2);
  assert.equal(ws.readyState, 1, "still open");
  assert.equal(sockets.opened.length, 1);
  clock.advance(DEFAULT_CONFIG.pingMs);
  assert.equal(ws.framesOf("ping").length, 2);
});

test("no pong within 10 s drops the socket and reconnects", () => {
  const { conn, clock, sockets, statuses } = open();
  const ws = sockets.last;
  ws.answersPings = false;
  clock.advance(DEFAULT_CONFIG.pingMs + DEFAULT_CONFIG.pongTimeoutMs - 1);
  assert.equal(ws.readyState, 1);
  clock.advance(1);
  assert.equal(ws.readyState, 3, "the silent socket was closed");
  assert.equal(statuses.at(-1), "reconnecting");
  clock.advance(conn.retryAt - clock.now());
  assert.equal(sockets.opened.length, 2);
});

test("hidden for a minute: the socket closes, the state is offline, and nothing retries", () => {
  const { conn, clock, sockets, statuses } = open();
  conn.hide();
  clock.advance(DEFAULT_CONFIG.hiddenCloseMs - 1);
  assert.equal(sockets.last.readyState, 1, "a short look away keeps the socket");
  clock.advance(1);
  assert.equal(sockets.last.readyState, 3);
  assert.equal(conn.paused, true);
  assert.equal(statuses.at(-1), "offline");
  clock.advance(30 * 60_000);
  assert.equal(sockets.opened.length, 1, "no reconnect while hidden");
  conn.wake(); // the browser's online event while still hidden
  assert.equal(sockets.opened.length, 1, "a paused tab waits until it is visible");
});

test("visible again after the pause: reconnects at once with the backoff reset", () => {
  const { conn, clock, sockets, statuses } = open();
  conn.attempt = 4;
  conn.hide();
  clock.advance(DEFAULT_CONFIG.hiddenCloseMs);
  conn.show();
  assert.equal(sockets.opened.length, 2, "connected without waiting");
  assert.equal(conn.attempt, 0);
  assert.equal(conn.paused, false);
  assert.equal(statuses.at(-1), "connecting");
});

test("visible again before the minute is up: the socket was never closed", () => {
  const { conn, clock, sockets } = open();
  conn.hide();
  clock.advance(DEFAULT_CONFIG.hiddenCloseMs / 2);
  conn.show();
  clock.advance(DEFAULT_CONFIG.hiddenCloseMs);
  assert.equal(sockets.last.readyState, 1);
  assert.equal(sockets.opened.length, 1);
});

test("hidden while the server is down: the retries stop at the pause and resume when visible", () => {
  const { conn, clock, sockets, statuses } = open();
  conn.hide();
  sockets.last.serverClose(1006);
  for (let i = 0; i < 3; i++) {
    clock.advance(conn.retryAt - clock.now());
    sockets.last.serverClose(1006); // still down
  }
  const tried = sockets.opened.length;
  assert.equal(tried, 4);
  clock.advance(DEFAULT_CONFIG.hiddenCloseMs);
  assert.equal(statuses.at(-1), "offline");
  // The fifth attempt, due 12 s later, ran before the minute was up; the pause closed it.
  assert.equal(sockets.opened.length, tried + 1);
  assert.equal(sockets.last.readyState, 3);
  const paused = sockets.opened.length;
  clock.advance(10 * 60_000);
  assert.equal(sockets.opened.length, paused, "nothing retries while paused");
  conn.show();
  assert.equal(sockets.opened.length, paused + 1);
});

test("offline drops the socket without scheduling a retry; online reconnects at once", () => {
  const { conn, clock, sockets, env, statuses } = open();
  env.online = false;
  conn.offline();
  assert.equal(sockets.last.readyState, 3);
  assert.equal(statuses.at(-1), "offline");
  clock.advance(60_000);
  assert.equal(sockets.opened.length, 1);
  env.online = true;
  conn.attempt = 3;
  conn.wake();
  assert.equal(sockets.opened.length, 2);
  assert.equal(conn.attempt, 0);
});

test("online during a long backoff connects at once", () => {
  const { conn, sockets } = open();
  conn.attempt = 10;
  sockets.last.serverClose(1006);
  assert.ok(conn.retryAt - conn.clock.now() >= 15_000);
  conn.wake();
  assert.equal(sockets.opened.length, 2);
  assert.equal(conn.attempt, 0);
});

test("reconnect() replaces an open socket at once", () => {
  const { conn, sockets } = open();
  const first = sockets.last;
  conn.reconnect();
  assert.equal(first.readyState, 3);
  assert.equal(sockets.opened.length, 2);
  assert.equal(conn.attempt, 0);
  first.fire("close", { code: 1006 }); // a late close event of the old socket changes nothing
  assert.equal(conn.socket, sockets.last);
});

test("pagehide closes quietly; pageshow from the cache reconnects", () => {
  const { conn, clock, sockets } = open();
  conn.suspend();
  assert.equal(sockets.last.closedWith, 1000);
  clock.advance(60_000);
  assert.equal(sockets.opened.length, 1, "no reconnect from a page going away");
  conn.wake();
  assert.equal(sockets.opened.length, 2);
});

test("stop() closes with 1000 and never comes back", () => {
  const { conn, clock, sockets, statuses } = open();
  conn.stop();
  assert.equal(sockets.last.closedWith, 1000);
  assert.equal(statuses.at(-1), "stopped");
  conn.wake();
  conn.show();
  clock.advance(10 * 60_000);
  assert.equal(sockets.opened.length, 1);
  assert.equal(conn.send({ type: "ping" }), false);
});

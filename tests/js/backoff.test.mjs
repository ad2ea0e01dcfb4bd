// Reconnect timing: exponential backoff with jitter, the short jittered delay after a service
// restart (1012), and the close codes that never retry.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { afterClose, backoffDelay, RESTART_DELAY_MS, restartDelay } from "../../static/realtime/backoff.js";
import { DEFAULT_CONFIG } from "../../static/realtime/config.js";
import { Connection } from "../../static/realtime/connection.js";
import { FakeClock, fakeSockets } from "./fakes.mjs";

const ALMOST_ONE = 1 - Number.EPSILON;

describe("backoffDelay", () => {
  test("each step is min(cap, base × 2^attempt); the delay is in [step/2, step)", () => {
    const config = { backoffBaseMs: 1000, backoffCapMs: 30000 };
    const steps = [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000];
    steps.forEach((step, attempt) => {
      assert.equal(backoffDelay(attempt, config, () => 0), step / 2, `attempt ${attempt}, no jitter`);
      const highest = backoffDelay(attempt, config, () => ALMOST_ONE);
      assert.ok(highest < step && highest > step * 0.99, `attempt ${attempt}: ${highest} below ${step}`);
    });
  });

  test("random jitter stays within the bounds and actually varies", () => {
    const delays = Array.from({ length: 500 }, () => backoffDelay(2, DEFAULT_CONFIG, Math.random));
    for (const delay of delays) assert.ok(delay >= 2000 && delay < 4000, String(delay));
    assert.ok(new Set(delays).size > 400, "the jitter spreads the clients out");
  });

  test("a huge attempt count stays at the cap", () => {
    assert.equal(backoffDelay(5000, DEFAULT_CONFIG, () => 0), DEFAULT_CONFIG.backoffCapMs / 2);
  });
});

describe("restartDelay (close code 1012)", () => {
  test("is between 0.2 and 3 s", () => {
    assert.deepEqual(RESTART_DELAY_MS, { min: 200, max: 3000 });
    assert.equal(restartDelay(() => 0), 200);
    const highest = restartDelay(() => ALMOST_ONE);
    assert.ok(highest < 3000 && highest > 2999, String(highest));
    for (let i = 0; i < 500; i++) {
      const delay = restartDelay(Math.random);
      assert.ok(delay >= 200 && delay < 3000, String(delay));
    }
  });
});

test("afterClose tells login, stop, restart and retry apart", () => {
  assert.equal(afterClose(4401), "login");
  assert.equal(afterClose(4403), "stop");
  assert.equal(afterClose(1012), "restart");
  for (const code of [1000, 1001, 1006, 1011, 1013, 4000]) assert.equal(afterClose(code), "retry", String(code));
});

function connection({ random = () => 0.5, config = {} } = {}) {
  const clock = new FakeClock();
  const sockets = fakeSockets();
  const statuses = [];
  const conn = new Connection({
    url: "ws://portal.test/ws/realtime/",
    WebSocket: sockets.WebSocket,
    clock,
    random,
    config: { ...DEFAULT_CONFIG, ...config },
    onFrame: () => {},
    onStatus: (status) => statuses.push(status),
  });
  conn.connect();
  const retryIn = () => conn.retryAt - clock.now();
  return { conn, clock, sockets, statuses, retryIn };
}

describe("Connection's reconnect schedule", () => {
  test("failed attempts back off exponentially until a hello resets the count", () => {
    const { conn, clock, sockets, retryIn } = connection();
    const seen = [];
    for (let i = 0; i < 4; i++) {
      sockets.last.serverClose(1006); // the handshake failed: no hello
      seen.push(retryIn());
      clock.advance(retryIn());
    }
    assert.deepEqual(seen, [750, 1500, 3000, 6000]);
    assert.equal(sockets.opened.length, 5);

    sockets.last.accept();
    assert.equal(conn.attempt, 0);
    sockets.last.serverClose(1011);
    assert.equal(retryIn(), 750, "back to the first step after a hello");
  });

  test("the socket reconnects when the delay is over, not before", () => {
    const { clock, sockets, retryIn, statuses } = connection();
    sockets.last.accept().serverClose(1006);
    assert.equal(statuses.at(-1), "reconnecting");
    clock.advance(retryIn() - 1);
    assert.equal(sockets.opened.length, 1);
    clock.advance(1);
    assert.equal(sockets.opened.length, 2);
    assert.equal(statuses.at(-1), "connecting");
  });

  test("1012 (service restart) reconnects within 0.2-3 s and does not grow the backoff", () => {
    for (const [random, expected] of [
      [0, 200],
      [0.5, 1600],
      [ALMOST_ONE, 3000],
    ]) {
      const { conn, clock, sockets, retryIn } = connection({ random: () => random, config: { backoffBaseMs: 60000, backoffCapMs: 60000 } });
      sockets.last.accept().serverClose(1012);
      assert.ok(Math.abs(retryIn() - expected) < 1, `random ${random}: ${retryIn()} vs ${expected}`);
      assert.equal(conn.attempt, 0);
      clock.advance(retryIn());
      assert.equal(sockets.opened.length, 2, "reconnected after the short delay, not the minute of backoff");
    }
  });

  test("1012 right after a run of failures still comes back soon", () => {
    const { clock, sockets, retryIn } = connection({ random: () => 0.5 });
    for (let i = 0; i < 5; i++) {
      sockets.last.serverClose(1006);
      clock.advance(retryIn());
    }
    sockets.last.readyState = 1;
    sockets.last.serverClose(1012);
    assert.equal(retryIn(), 1600);
  });

  test("after a 1012, retries stay at the restart pace until the server is back", () => {
    // The restarted server takes a few seconds to answer: the refused attempts meanwhile must not
    // push the next try out to the growing backoff (clients would come back 10 s late).
    const { conn, clock, sockets, retryIn } = connection({ random: () => ALMOST_ONE, config: { backoffBaseMs: 60000, backoffCapMs: 60000 } });
    sockets.last.accept().serverClose(1012);
    for (let i = 0; i < 5; i++) {
      assert.ok(retryIn() <= 3000, `retry ${i} after ${retryIn()} ms`);
      clock.advance(retryIn());
      sockets.last.serverClose(1006); // refused: the server is not back yet
    }
    assert.equal(conn.attempt, 0);
    clock.advance(retryIn());
    sockets.last.accept(); // hello: back to the normal backoff for the next failure
    sockets.last.serverClose(1006);
    assert.ok(retryIn() >= 30000, "a plain failure after the restart backs off as usual");
  });

  test("4401 and 4403 stop for good", () => {
    for (const code of [4401, 4403]) {
      const { conn, clock, sockets, statuses } = connection();
      sockets.last.accept().serverClose(code);
      assert.equal(conn.stopped, true);
      assert.equal(conn.stopCode, code);
      assert.equal(statuses.at(-1), "stopped");
      clock.advance(10 * 60_000);
      conn.wake();
      conn.reconnect();
      assert.equal(sockets.opened.length, 1, `${code}: no new socket`);
    }
  });
});

// The resume cursor: `since` on every subscribe is the last seq applied to the page, or the seq
// before the oldest frame still waiting; across reconnects, the hidden-tab pause and `resync`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ResumeCursor } from "../../static/realtime/cursor.js";
import { change, postedSeqs, response, settle, TOPICS } from "./fakes.mjs";
import { portalPage } from "./portal-page.mjs";

describe("ResumeCursor", () => {
  test("takes each new seq once and resumes before the oldest waiting one", () => {
    const cursor = new ResumeCursor(40);
    assert.equal(cursor.resumeFrom(), 40);
    assert.equal(cursor.receive(42), true);
    assert.equal(cursor.receive(41), true);
    assert.equal(cursor.receive(42), false, "a duplicate");
    assert.equal(cursor.receive(40), false, "already on the page");
    assert.deepEqual(cursor.batch(), [41, 42]);
    assert.equal(cursor.resumeFrom(), 40, "41 was received, not applied");
    cursor.applied([41]);
    assert.equal(cursor.lastSeq, 41);
    assert.equal(cursor.resumeFrom(), 41);
    cursor.applied([42]);
    assert.equal(cursor.resumeFrom(), 42);
    assert.equal(cursor.waiting, 0);
  });

  test("a change of a topic the page does not render counts as applied only when nothing waits", () => {
    const cursor = new ResumeCursor(10);
    cursor.receive(11);
    cursor.pass(12);
    assert.equal(cursor.lastSeq, 10);
    cursor.applied([11]);
    cursor.pass(13);
    assert.equal(cursor.lastSeq, 13);
  });

  test("reset starts again from a snapshot's seq and forgets what waited", () => {
    const cursor = new ResumeCursor(10);
    cursor.receive(11);
    cursor.receive(12);
    cursor.reset(50);
    assert.equal(cursor.waiting, 0);
    assert.equal(cursor.resumeFrom(), 50);
    assert.equal(cursor.receive(50), false);
    assert.equal(cursor.receive(51), true);
  });
});

/** The page's socket, accepted and confirmed. */
function live(page) {
  const ws = page.sockets.last.accept();
  ws.receive({ type: "subscribed", topics: ["jobs", "messages"], seq: 0 });
  return ws;
}

describe("the client resumes", () => {
  test("the first subscribe asks for every topic the server knows (the page's get rows, all notify) since the page's seq", () => {
    const page = portalPage({ seq: 40 });
    page.client.start();
    const ws = live(page);
    assert.deepEqual(ws.framesOf("subscribe"), [{ type: "subscribe", topics: TOPICS, since: 40 }]);
    assert.equal(page.api.state, "live");
  });

  test("frames received but not applied when the socket drops come again", async () => {
    const page = portalPage({ seq: 40 });
    page.http.respond = () => response({ status: 502 });
    page.client.start();
    const first = live(page);
    first.receive(change(41));
    first.receive(change(42));
    page.clock.advance(100);
    await settle(); // the live endpoint failed: 41 and 42 still wait
    first.serverClose(1006);
    page.clock.advance(page.client.connection.retryAt - page.clock.now());
    const second = page.sockets.last.accept();
    assert.equal(second.framesOf("subscribe")[0].since, 40);

    // The replay repeats 41 and 42 and adds 43: the next POST has each once.
    page.http.respond = () => response({ text: "" });
    for (const seq of [41, 42, 43]) second.receive(change(seq));
    page.clock.advance(100);
    await settle();
    assert.deepEqual(page.http.posts().map(postedSeqs), [
      [41, 42],
      [41, 42, 43],
    ]);
    assert.equal(page.api.lastSeq, 43);

    second.serverClose(1011);
    page.clock.advance(page.client.connection.retryAt - page.clock.now());
    assert.equal(page.sockets.last.accept().framesOf("subscribe")[0].since, 43, "from the last applied seq");
  });

  test("a batch in flight when the socket drops: resume before it, apply nothing twice", async () => {
    const page = portalPage({ seq: 40 });
    let answer;
    page.http.respond = () => new Promise((resolve) => (answer = resolve));
    page.client.start();
    const first = live(page);
    first.receive(change(41));
    page.clock.advance(100);
    await settle(); // POST [41] is on its way
    first.receive(change(42));
    first.serverClose(1006);
    page.clock.advance(page.client.connection.retryAt - page.clock.now());
    const second = page.sockets.last.accept();
    assert.equal(second.framesOf("subscribe")[0].since, 40);
    second.receive(change(41));
    second.receive(change(42));
    answer(response({ text: "" }));
    await settle();
    assert.equal(page.api.lastSeq, 41);
    page.http.respond = () => response({ text: "" });
    page.clock.advance(100);
    await settle();
    assert.deepEqual(page.http.posts().map(postedSeqs), [[41], [42]]);
    assert.equal(page.api.lastSeq, 42);
  });

  test("back from the hidden-tab pause, it catches up from the last applied seq", async () => {
    const page = portalPage({ seq: 40 });
    page.client.start();
    const ws = live(page);
    ws.receive(change(41));
    page.clock.advance(100);
    await settle();
    page.client.connection.hide();
    page.clock.advance(60_000);
    assert.equal(ws.readyState, 3);
    assert.equal(page.api.state, "offline");
    page.clock.advance(5 * 60_000);
    assert.equal(page.sockets.opened.length, 1);

    page.client.connection.show();
    const back = page.sockets.last.accept();
    assert.equal(page.sockets.opened.length, 2);
    assert.deepEqual(back.framesOf("subscribe"), [{ type: "subscribe", topics: TOPICS, since: 41 }]);
    back.receive(change(42)); // missed while hidden
    back.receive(change(43));
    back.receive({ type: "subscribed", topics: ["jobs", "messages"], seq: 43 });
    page.clock.advance(100);
    await settle();
    assert.deepEqual(page.http.posts().map(postedSeqs), [[41], [42, 43]]);
    assert.equal(page.api.lastSeq, 43);
    assert.equal(page.doc.body.dataset.seq, "43");
    assert.equal(page.api.state, "live");
  });

  test("resync: re-render #main, drop frames the snapshot has, subscribe again from its seq", async () => {
    const page = portalPage({ seq: 3 });
    page.http.respond = (request) =>
      response({ text: request.method === "GET" ? '<body data-seq="50"><main id="main"></main></body>' : "" });
    page.client.start();
    const ws = live(page);
    ws.receive(change(4));
    ws.receive({ type: "resync", reason: "changes after seq 3 are no longer retained", seq: 50 });
    await settle();
    assert.deepEqual(page.http.requests[0], { method: "GET", url: "http://portal.test/portal/" });
    assert.equal(page.htmx.swaps[0].select, "#main");
    assert.equal(page.htmx.swaps[0].target, page.doc.getElementById("main"));
    assert.equal(page.api.lastSeq, 50);
    assert.equal(page.doc.body.dataset.seq, "50");
    assert.deepEqual(ws.framesOf("subscribe").at(-1), { type: "subscribe", topics: TOPICS, since: 50 });

    for (const seq of [4, 49, 50, 51]) ws.receive(change(seq));
    page.clock.advance(100);
    await settle();
    assert.deepEqual(page.http.posts().map(postedSeqs), [[51]], "4 was dropped with the old page, 49 and 50 are in the snapshot");
  });

  test("a failed resync drops the socket and tries again after reconnecting", async () => {
    const page = portalPage({ seq: 3 });
    page.http.respond = () => response({ status: 502 });
    page.client.start();
    const ws = live(page);
    ws.receive({ type: "resync", reason: "gone", seq: 50 });
    await settle();
    assert.equal(ws.readyState, 3);
    assert.equal(page.api.state, "reconnecting");
    assert.equal(page.api.lastSeq, 3);
    page.clock.advance(page.client.connection.retryAt - page.clock.now());
    assert.equal(page.sockets.last.accept().framesOf("subscribe")[0].since, 3);
  });
});

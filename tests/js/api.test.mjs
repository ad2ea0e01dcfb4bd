// window.portalRealtime, as docs/components.md documents it: the hooks and their callbacks, the
// read-only state, topics from the server's hello, and the close codes' effect on the state.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { change, response, settle, TOPICS } from "./fakes.mjs";
import { portalPage } from "./portal-page.mjs";

function livePage(options) {
  const page = portalPage(options);
  page.client.start();
  const ws = page.sockets.last.accept();
  ws.receive({ type: "subscribed", topics: ["jobs", "messages"], seq: 0 });
  return { ...page, ws };
}

test("the API has exactly the documented shape and cannot be changed", () => {
  const { api } = portalPage();
  assert.deepEqual(Object.keys(api).sort(), [
    "activeSubscriptions",
    "error",
    "isConnected",
    "lastSeq",
    "latestUpdate",
    "onMessageDeleted",
    "onMessageRead",
    "onNewMessage",
    "onPointsEarned",
    "onPointsRedeemed",
    "presence",
    "reconnect",
    "state",
    "subscribe",
    "topics",
    "totalPoints",
    "unreadCount",
  ]);
  assert.ok(Object.isFrozen(api));
  assert.throws(() => {
    "use strict";
    api.state = "live";
  }, TypeError);
});

describe("subscribe(topic, handler)", () => {
  test("onInsert(new), onUpdate(new, old), onDelete(old), then onChange, each with the frame", () => {
    const page = livePage();
    const calls = [];
    page.api.subscribe("jobs", {
      onInsert: (row, frame) => calls.push(["insert", row, frame.seq]),
      onUpdate: (row, old, frame) => calls.push(["update", row.status, old.status, frame.seq]),
      onDelete: (old, frame) => calls.push(["delete", old.id, frame.seq]),
      onChange: (frame) => calls.push(["change", frame.op]),
    });
    page.ws.receive(change(41, "jobs", "insert"));
    page.ws.receive(change(42, "jobs", "update"));
    page.ws.receive(change(43, "jobs", "delete"));
    page.ws.receive(change(44, "messages", "update")); // another topic
    assert.deepEqual(calls, [
      ["insert", { id: 41, status: "confirmed" }, 41],
      ["change", "insert"],
      ["update", "confirmed", "scheduled", 42],
      ["change", "update"],
      ["delete", 43, 43],
      ["change", "delete"],
    ]);
    assert.equal(page.api.latestUpdate.seq, 44);
  });

  test("the returned function stops the handler; a throwing handler does not stop the others", () => {
    const page = livePage();
    const seen = [];
    page.api.subscribe("jobs", {
      onChange() {
        throw new Error("boom");
      },
    });
    const stop = page.api.subscribe("jobs", { onChange: (frame) => seen.push(frame.seq) });
    page.ws.receive(change(41));
    stop();
    page.ws.receive(change(42));
    assert.deepEqual(seen, [41]);
    assert.equal(page.log.errors.length, 2, "the thrower is still subscribed");
    assert.equal(page.log.errors[0][1].message, "boom");
  });

  test("after hello the socket carries every topic: a script's handler adds or removes none", () => {
    const page = livePage();
    assert.deepEqual(page.ws.framesOf("subscribe"), [{ type: "subscribe", topics: TOPICS, since: 40 }]);
    const stop = page.api.subscribe("loyalty", {});
    assert.equal(page.ws.framesOf("subscribe").length, 1, "loyalty is on the socket already");
    assert.deepEqual(page.api.topics, TOPICS);
    page.ws.receive({ type: "subscribed", topics: TOPICS, seq: 0 });
    assert.equal(page.api.activeSubscriptions, 5);
    stop();
    assert.equal(page.ws.framesOf("unsubscribe").length, 0, "the page's notifications still need it");
    assert.deepEqual(page.api.topics, TOPICS);
  });

  test("a topic the page does not show is applied too: the live endpoint is told the page's own topics", async () => {
    const page = livePage();
    page.ws.receive(change(41, "loyalty", "insert", { event: "loyalty.bonus" }));
    page.clock.advance(100);
    await settle();
    const [post] = page.http.posts();
    const form = new URLSearchParams(post.body);
    assert.equal(form.get("seqs"), "41");
    assert.equal(form.get("topics"), "jobs messages");
    assert.equal(page.api.lastSeq, 41);
  });
});

describe("topics come from the server's hello", () => {
  test("after hello an unknown topic throws, naming the known ones", () => {
    const page = livePage();
    assert.throws(() => page.api.subscribe("job", {}), new Error(`Unknown topic job; known: ${TOPICS.join(", ")}`));
    const page2 = portalPage();
    page2.client.start();
    page2.sockets.last.accept({ topics: [...TOPICS, "reviews"] });
    page2.api.subscribe("reviews", {}); // a topic the server added: no client change needed
    assert.deepEqual(page2.sockets.last.framesOf("subscribe"), [{ type: "subscribe", topics: [...TOPICS, "reviews"], since: 40 }]);
  });

  test("before hello any topic is taken; hello drops an unknown one with a console error", () => {
    const page = portalPage();
    const seen = [];
    page.api.subscribe("loyalty", { onChange: (frame) => seen.push(frame.seq) });
    page.api.subscribe("reviews", { onChange: (frame) => seen.push(frame.seq) });
    assert.deepEqual(page.api.topics, ["jobs", "messages", "loyalty", "reviews"]);
    page.client.start();
    const ws = page.sockets.last;
    assert.equal(ws.sent.length, 0, "nothing is sent before hello");
    ws.accept();
    assert.deepEqual(ws.framesOf("subscribe"), [{ type: "subscribe", topics: TOPICS, since: 40 }]);
    assert.deepEqual(page.api.topics, TOPICS);
    assert.equal(page.log.errors.length, 1);
    assert.match(page.log.errors[0][0], /unknown topic reviews dropped/);
    ws.receive(change(41, "reviews"));
    ws.receive(change(42, "loyalty"));
    assert.deepEqual(seen, [42]);
  });
});

test("the hooks: onNewMessage, onMessageRead, onMessageDeleted, onPointsEarned, onPointsRedeemed", () => {
  const page = livePage({ topics: ["messages", "loyalty"] });
  const calls = [];
  page.api.onNewMessage((message, frame) => calls.push(["new", message.id, frame.event]));
  page.api.onMessageRead((message) => calls.push(["read", message.id]));
  page.api.onMessageDeleted((message) => calls.push(["deleted", message.status]));
  page.api.onPointsEarned((tx) => calls.push(["earned", tx.id]));
  page.api.onPointsRedeemed((tx) => calls.push(["redeemed", tx.id]));
  page.ws.receive(change(1, "messages", "insert", { event: "message.received" }));
  page.ws.receive(change(2, "messages", "update", { event: "message.read" }));
  page.ws.receive(change(3, "messages", "update", { event: "message.updated" }));
  page.ws.receive(change(4, "messages", "delete", { event: "message.deleted" }));
  page.ws.receive(change(5, "loyalty", "insert", { event: "loyalty.earned" }));
  page.ws.receive(change(6, "loyalty", "insert", { event: "loyalty.bonus" }));
  page.ws.receive(change(7, "loyalty", "insert", { event: "loyalty.redeemed" }));
  page.ws.receive(change(8, "loyalty", "insert", { event: "loyalty.adjusted" }));
  assert.deepEqual(calls, [
    ["new", 1, "message.received"],
    ["read", 2],
    ["deleted", "scheduled"],
    ["earned", 5],
    ["earned", 6],
    ["redeemed", 7],
  ]);
});

test("unreadCount and totalPoints follow #realtime-state, from the page and after each batch", async () => {
  const page = livePage({ state: { unread: "2", points: "120" } });
  assert.equal(page.api.unreadCount, 2);
  assert.equal(page.api.totalPoints, 120);
  page.http.respond = () => response({ text: JSON.stringify({ unread: "3", points: "170" }) });
  page.ws.receive(change(41, "messages", "insert"));
  assert.equal(page.api.unreadCount, 2, "not before the batch is applied");
  page.clock.advance(100);
  await settle();
  assert.equal(page.api.unreadCount, 3);
  assert.equal(page.api.totalPoints, 170);
  assert.equal(portalPage().api.unreadCount, null, "null on a page without the counts");
});

test("state, isConnected, activeSubscriptions and the portal:realtime-state event", () => {
  const page = portalPage();
  page.client.start();
  assert.equal(page.api.state, "connecting");
  assert.equal(page.api.isConnected, false);
  const ws = page.sockets.last.accept();
  assert.equal(page.api.state, "connecting", "live only once the server confirms");
  ws.receive({ type: "subscribed", topics: ["jobs", "messages"], seq: 40 });
  assert.equal(page.api.isConnected, true);
  assert.equal(page.api.activeSubscriptions, 2);
  ws.serverClose(1006);
  assert.equal(page.api.state, "reconnecting");
  assert.equal(page.api.activeSubscriptions, 0);
  page.api.reconnect();
  assert.equal(page.sockets.opened.length, 2, "reconnect() does not wait for the backoff");
  const states = page.events.filter((event) => event.name === "portal:realtime-state").map((event) => event.detail.state);
  assert.deepEqual(states, ["live", "reconnecting"]);
});

test("4403: the error state with its reason, and no retry", () => {
  const page = livePage();
  page.ws.serverClose(4403);
  assert.equal(page.api.state, "error");
  assert.equal(page.api.error, "This login may not see these updates.");
  page.clock.advance(10 * 60_000);
  page.api.reconnect();
  assert.equal(page.sockets.opened.length, 1);
  assert.deepEqual(page.navigations, []);
});

test("4401: to the login page, coming back here afterwards", () => {
  const page = livePage();
  page.ws.serverClose(4401);
  assert.deepEqual(page.navigations, ["/portal/login/?next=%2Fportal%2F"]);
  assert.equal(page.api.state, "error");
  page.clock.advance(10 * 60_000);
  assert.equal(page.sockets.opened.length, 1);
});

test("leaving (logout in this tab) closes quietly: no retry, no redirect, no state change", () => {
  const page = livePage();
  page.client.leave();
  assert.equal(page.ws.closedWith, 1000);
  page.clock.advance(10 * 60_000);
  assert.equal(page.sockets.opened.length, 1);
  assert.deepEqual(page.navigations, []);
  assert.equal(page.api.state, "live");
});

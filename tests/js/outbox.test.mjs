// Offline sending's outbox (static/portal/outbox.js; docs/components.md, "Offline sending"):
// kept in storage across a reload, sent oldest first and once, kept on failure, dropped on a
// refusal, dropped (not sent) after a day, cleared on logout, and one outbox per customer.

import assert from "node:assert/strict";
import { test } from "node:test";

import { discardQuestion, MAX_AGE_MS, newKey, Outbox, postOnce } from "../../static/portal/outbox.js";
import { worthRetrying } from "../../static/realtime/http.js";

class FakeStorage {
  constructor() {
    this.data = new Map();
  }
  getItem(key) {
    return this.data.has(key) ? this.data.get(key) : null;
  }
  setItem(key, value) {
    this.data.set(key, String(value));
  }
  removeItem(key) {
    this.data.delete(key);
  }
}

const message = (key, body = "hello", at = 1) => ({ kind: "message", key, url: "/portal/messages/send/", body, at });
const read = (key, id, at = 1) => ({ kind: "read", key, url: `/portal/messages/${id}/read/`, id, at });

function outbox({ storage = new FakeStorage(), name = "portal-outbox:7", answers = [], now = () => 1000 } = {}) {
  const posted = [];
  const done = [];
  const box = new Outbox({
    storage,
    name,
    post: async (item) => {
      posted.push(item.key);
      return answers.shift() || { outcome: "sent", answer: { ok: true, id: posted.length } };
    },
    onDone: (item, result) => done.push([item.key, result.outcome]),
    now,
  });
  return { box, storage, posted, done };
}

test("items survive a reload: a new outbox on the same storage sees them, in order", () => {
  const storage = new FakeStorage();
  outbox({ storage }).box.add(message("key-one-1234"));
  outbox({ storage }).box.add(read("key-two-1234", 5));
  assert.deepEqual(outbox({ storage }).box.items().map((i) => i.key), ["key-one-1234", "key-two-1234"]);
});

test("flush sends each item once, oldest first, and empties the storage", async () => {
  const { box, storage, posted, done } = outbox();
  box.add(message("a-12345678"));
  box.add(message("b-12345678"));
  assert.equal(await box.flush(), "done");
  assert.equal(await box.flush(), "done");
  assert.deepEqual(posted, ["a-12345678", "b-12345678"]);
  assert.deepEqual(done, [["a-12345678", "sent"], ["b-12345678", "sent"]]);
  assert.equal(storage.data.size, 0);
});

test("a failure keeps that item and the ones after it, in order, for the next flush", async () => {
  const { box, posted } = outbox({ answers: [{ outcome: "sent", answer: { ok: true } }, { outcome: "failed" }] });
  box.add(message("a-12345678"));
  box.add(message("b-12345678"));
  box.add(message("c-12345678"));
  assert.equal(await box.flush(), "failed");
  assert.deepEqual(box.items().map((i) => i.key), ["b-12345678", "c-12345678"]);
  assert.equal(await box.flush(), "done");
  assert.deepEqual(posted, ["a-12345678", "b-12345678", "b-12345678", "c-12345678"], "the same key again: the server keeps one");
});

test("a refusal drops the item and goes on", async () => {
  const { box, done } = outbox({ answers: [{ outcome: "refused", error: "That message is not in your inbox." }] });
  box.add(read("a-12345678", 3));
  box.add(message("b-12345678"));
  assert.equal(await box.flush(), "done");
  assert.deepEqual(done, [["a-12345678", "refused"], ["b-12345678", "sent"]]);
});

test("a concurrent flush does not post an item twice", async () => {
  const { box, posted } = outbox();
  box.add(message("a-12345678"));
  const [first, second] = await Promise.all([box.flush(), box.flush()]);
  assert.deepEqual([first, second], ["done", "failed"]);
  assert.deepEqual(posted, ["a-12345678"]);
});

test("marking one message read twice while offline waits once; a key is kept once", () => {
  const { box } = outbox();
  box.add(read("a-12345678", 3));
  box.add(read("b-12345678", 3));
  box.add(message("c-12345678"));
  box.add(message("c-12345678"));
  assert.deepEqual(box.items().map((i) => i.key), ["a-12345678", "c-12345678"]);
});

test("each customer has an outbox of their own, and broken storage reads as empty", () => {
  const storage = new FakeStorage();
  outbox({ storage, name: "portal-outbox:7" }).box.add(message("a-12345678"));
  assert.deepEqual(outbox({ storage, name: "portal-outbox:8" }).box.items(), []);
  storage.setItem("portal-outbox:9", "{not json");
  assert.deepEqual(outbox({ storage, name: "portal-outbox:9" }).box.items(), []);
  const refusing = { getItem: () => { throw new Error("SecurityError"); }, setItem: () => { throw new Error("QuotaExceeded"); }, removeItem() {} };
  const box = new Outbox({ storage: refusing, name: "x", post: async () => ({ outcome: "failed" }) });
  box.add(message("a-12345678"));
  assert.deepEqual(box.items(), []);
});

test("postOnce: 2xx ok is sent, 4xx refused with the server's words, no answer or 5xx kept", async () => {
  const answer = (status, body) => async () => ({ status, ok: status < 300, json: async () => body });
  assert.deepEqual(await postOnce(answer(200, { ok: true, id: 4 })), { outcome: "sent", answer: { ok: true, id: 4 } });
  assert.deepEqual(await postOnce(answer(422, { error: "A message cannot be empty." })), {
    outcome: "refused",
    error: "A message cannot be empty.",
  });
  assert.deepEqual(await postOnce(answer(503, {})), { outcome: "failed" });
  assert.deepEqual(await postOnce(answer(429, {})), { outcome: "failed" });
  assert.deepEqual(await postOnce(async () => { throw new TypeError("Failed to fetch"); }), { outcome: "failed" });
});

test("keys are what the server accepts: 8-64 of letters, digits, - and _", () => {
  const keys = new Set(Array.from({ length: 50 }, newKey));
  assert.equal(keys.size, 50);
  for (const key of keys) assert.match(key, /^[A-Za-z0-9_-]{8,64}$/);
});

test("an item that waited more than a day is dropped, reported, and never posted", async () => {
  let now = 1000;
  const { box, posted, done } = outbox({ now: () => now });
  box.add(message("old-12345678", "written yesterday", 1000));
  box.add(read("oldread-1234", 3, 1000));
  now = 1000 + MAX_AGE_MS; // exactly a day: still goes
  box.add(message("new-12345678", "written now", now));
  assert.equal(box.expire(), 0);
  now += 1; // the first two are past the limit
  assert.equal(await box.flush(), "done");
  assert.deepEqual(posted, ["new-12345678"]);
  assert.deepEqual(done, [["old-12345678", "expired"], ["oldread-1234", "expired"], ["new-12345678", "sent"]]);
  assert.deepEqual(box.items(), []);
});

test("an item that comes of age while the flush waits on a failing server is not posted again", async () => {
  let now = 0;
  const { box, posted, done } = outbox({ now: () => now, answers: [{ outcome: "failed" }] });
  box.add(message("a-12345678", "hello", 0));
  assert.equal(await box.flush(), "failed");
  now = MAX_AGE_MS + 1;
  assert.equal(await box.flush(), "done");
  assert.deepEqual(posted, ["a-12345678"], "posted once, before it was too old");
  assert.deepEqual(done, [["a-12345678", "expired"]]);
});

test("an item without a valid time is treated as too old", () => {
  const { box, done } = outbox();
  box.add({ ...message("a-12345678"), at: undefined });
  box.add({ ...message("b-12345678"), at: "yesterday" });
  assert.equal(box.expire(), 2);
  assert.deepEqual(done.map(([, outcome]) => outcome), ["expired", "expired"]);
});

test("logging out clears the outbox; the question counts what would be lost", () => {
  const storage = new FakeStorage();
  const { box } = outbox({ storage });
  box.add(message("a-12345678"));
  box.add(message("b-12345678"));
  box.add(read("c-12345678", 4));
  assert.equal(
    discardQuestion(box.items()),
    "2 messages are not sent yet and will be discarded. 1 message is not marked as read yet and will stay unread. Log out anyway?"
  );
  assert.equal(discardQuestion([message("a-12345678")]), "1 message is not sent yet and will be discarded. Log out anyway?");
  box.clear();
  assert.deepEqual(box.items(), []);
  assert.equal(storage.data.size, 0);
});

test("worth retrying with the same key: 5xx, 429 and 408; other answers are final", () => {
  assert.deepEqual([408, 429, 500, 502, 503, 504].map(worthRetrying), [true, true, true, true, true, true]);
  assert.deepEqual([200, 400, 401, 403, 404, 422].map(worthRetrying), [false, false, false, false, false, false]);
});

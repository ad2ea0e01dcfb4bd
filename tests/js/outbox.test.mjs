// Offline sending's outbox (static/portal/outbox.js; docs/components.md, "Offline sending"):
// kept in storage across a reload, sent oldest first and once, kept on failure, dropped on a
// refusal, and one outbox per customer.

import assert from "node:assert/strict";
import { test } from "node:test";

import { newKey, Outbox, postOnce } from "../../static/portal/outbox.js";

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

const message = (key, body = "hello") => ({ kind: "message", key, url: "/portal/messages/send/", body, at: 1 });
const read = (key, id) => ({ kind: "read", key, url: `/portal/messages/${id}/read/`, id, at: 1 });

function outbox({ storage = new FakeStorage(), name = "portal-outbox:7", answers = [] } = {}) {
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

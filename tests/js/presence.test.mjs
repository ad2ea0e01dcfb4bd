// The room as a socket hears it: the whole room, then diffs (docs/protocol.md).
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyPresence } from "../../static/realtime/presence.js";

const alice = { name: "Alice", role: "customer", status: "active" };
const sam = { name: "Sam", role: "staff", status: "away" };

test("a presence frame replaces the room", () => {
  const before = { "user-9": sam };
  const room = applyPresence(before, { type: "presence", online: { "user-1": alice } });
  assert.deepEqual(room, { "user-1": alice });
  assert.deepEqual(before, { "user-9": sam }, "the old room is left as it was");
});

test("a diff adds, updates and removes users", () => {
  let room = applyPresence({}, { type: "presence", online: { "user-1": alice } });
  room = applyPresence(room, { type: "presence_diff", joined: { "user-2": sam }, left: [] });
  room = applyPresence(room, { type: "presence_diff", joined: { "user-1": { ...alice, status: "idle" } }, left: [] });
  assert.deepEqual(room, { "user-1": { ...alice, status: "idle" }, "user-2": sam });
  room = applyPresence(room, { type: "presence_diff", joined: {}, left: ["user-1"] });
  assert.deepEqual(room, { "user-2": sam });
});

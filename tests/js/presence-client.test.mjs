// Presence and typing as a tab keeps them (static/realtime/presence-state.js; docs/components.md,
// "Presence and typing"): the idle timer, the typing throttle and stop, the room's typing
// indicators. `portalRealtime.presence` on a fake socket: presence-api.test.mjs.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ActivityStatus, PresenceRoom, TYPING_GAP_MS, TypingSender, typingText } from "../../static/realtime/presence-state.js";
import { FakeClock } from "./fakes.mjs";

describe("ActivityStatus", () => {
  function tab({ hidden = false, idleMs = 1000 } = {}) {
    const clock = new FakeClock();
    const page = { hidden };
    const changes = [];
    const status = new ActivityStatus({ clock, idleMs, hidden: () => page.hidden, onStatus: (s) => changes.push(s) });
    return { clock, page, changes, status };
  }

  test("a visible tab is active, and idle after idleMs without activity", () => {
    const { clock, changes, status } = tab();
    assert.equal(status.status, "active");
    clock.advance(999);
    assert.equal(status.status, "active");
    clock.advance(1);
    assert.equal(status.status, "idle");
    assert.deepEqual(changes, ["idle"]);
  });

  test("activity keeps it active, counted from the last activity", () => {
    const { clock, changes, status } = tab();
    clock.advance(800);
    status.activity();
    clock.advance(800); // 1600 since start, 800 since the activity
    assert.equal(status.status, "active");
    clock.advance(200);
    assert.equal(status.status, "idle");
    status.activity();
    assert.equal(status.status, "active");
    clock.advance(1000);
    assert.deepEqual(changes, ["idle", "active", "idle"]);
  });

  test("hidden is away, whatever the activity; shown again is active", () => {
    const { clock, page, changes, status } = tab();
    page.hidden = true;
    status.visibility();
    status.activity();
    clock.advance(5000);
    assert.equal(status.status, "away", "no idle timer runs while hidden");
    page.hidden = false;
    status.visibility();
    assert.equal(status.status, "active");
    clock.advance(1000);
    assert.deepEqual(changes, ["away", "active", "idle"]);
  });

  test("a tab that opens hidden starts away", () => {
    assert.equal(tab({ hidden: true }).status.status, "away");
  });
});

describe("TypingSender", () => {
  function box({ sendOk = true } = {}) {
    const clock = new FakeClock();
    const sent = [];
    const sender = new TypingSender({ clock, refreshMs: 2500, stopMs: 3000, send: (t) => (sent.push(t), sendOk) });
    return { clock, sent, sender };
  }

  test("true once for a burst of keystrokes, then false after the pause", () => {
    const { clock, sent, sender } = box();
    for (let i = 0; i < 20; i++) {
      sender.input();
      clock.advance(100);
    }
    assert.deepEqual(sent, [true]);
    clock.advance(2899); // 3 s after the last keystroke, less 1 ms
    assert.deepEqual(sent, [true]);
    clock.advance(1);
    assert.deepEqual(sent, [true, false]);
  });

  test("long typing refreshes true every refreshMs, so the other side does not fade it", () => {
    const { clock, sent, sender } = box();
    for (let i = 0; i < 60; i++) {
      sender.input();
      clock.advance(100); // six seconds of typing
    }
    assert.deepEqual(sent, [true, true, true]);
  });

  test("stop() (sent, emptied, tab left) says false at once, and only after a true", () => {
    const { clock, sent, sender } = box();
    sender.stop();
    assert.deepEqual(sent, []);
    sender.input();
    clock.advance(1000);
    sender.stop();
    assert.deepEqual(sent, [true, false]);
    clock.advance(10_000);
    assert.deepEqual(sent, [true, false], "no second false from the pause timer");
    sender.input();
    assert.deepEqual(sent, [true, false, true], "typing again starts again");
  });

  test("frames are spaced by TYPING_GAP_MS, so the server's limit never drops a false", () => {
    const { clock, sent, sender } = box();
    sender.input();
    clock.advance(100);
    sender.stop(); // sent at once, right after the true: the server would drop it
    assert.deepEqual(sent, [true]);
    clock.advance(TYPING_GAP_MS - 101);
    assert.deepEqual(sent, [true]);
    clock.advance(1);
    assert.deepEqual(sent, [true, false]);
    sender.input(); // and a true right after that false waits its turn too
    assert.deepEqual(sent, [true, false]);
    clock.advance(TYPING_GAP_MS);
    assert.deepEqual(sent, [true, false, true]);
  });

  test("a true stopped before its turn never goes", () => {
    const { clock, sent, sender } = box();
    sender.input();
    clock.advance(700);
    sender.stop();
    sender.input(); // true again within the gap after the false
    sender.stop(); // and emptied at once
    clock.advance(5000);
    assert.deepEqual(sent, [true, false]);
  });

  test("a true that could not be sent (socket down) is tried again on the next keystroke", () => {
    const state = box({ sendOk: false });
    state.sender.input();
    state.sender.input();
    state.sender.stop();
    assert.deepEqual(state.sent, [true, true], "no false for a true that never went");
  });
});

describe("PresenceRoom", () => {
  const sam = { name: "Sam Staff", role: "staff", status: "active" };
  const typing = (user, value, name = "Sam Staff") => ({ type: "typing", user, name, role: "staff", typing: value });

  function room() {
    const clock = new FakeClock();
    let changes = 0;
    const r = new PresenceRoom({ clock, fadeMs: 6000, onChange: () => changes++ });
    return { clock, r, changes: () => changes };
  }

  test("typing shows until false, or fades after fadeMs without a frame", () => {
    const { clock, r } = room();
    r.receive({ type: "presence", online: { "user-1": sam } });
    r.receive(typing("user-1", true));
    assert.deepEqual(r.typists("staff").map((t) => t.name), ["Sam Staff"]);
    r.receive(typing("user-1", false));
    assert.deepEqual(r.typists("staff"), []);
    r.receive(typing("user-1", true));
    clock.advance(5000);
    r.receive(typing("user-1", true)); // a refresh restarts the fade
    clock.advance(5000);
    assert.equal(r.typists("staff").length, 1);
    clock.advance(1000);
    assert.equal(r.typists("staff").length, 0, "faded: the false was lost");
  });

  test("a user who leaves stops typing; a dropped socket empties the room", () => {
    const { r, changes } = room();
    r.receive({ type: "presence", online: { "user-1": sam, "user-2": { ...sam, name: "Dana" } } });
    r.receive(typing("user-1", true));
    r.receive(typing("user-2", true, "Dana"));
    r.receive({ type: "presence_diff", joined: {}, left: ["user-1"] });
    assert.deepEqual(r.typists("staff").map((t) => t.name), ["Dana"]);
    const before = changes();
    r.clear();
    assert.deepEqual([r.online, r.typists("staff")], [{}, []]);
    assert.equal(changes(), before + 1);
    assert.equal(r.receive({ type: "pong", seq: 1 }), false, "other frames are not presence");
  });

  test("people(role, statuses) filters the room", () => {
    const { r } = room();
    r.receive({ type: "presence", online: { "user-1": sam, "user-2": { ...sam, status: "away" }, "user-3": { ...sam, role: "customer" } } });
    assert.equal(r.people("staff").length, 2);
    assert.equal(r.people("staff", ["active", "idle"]).length, 1);
  });

  test("typingText names one, two or three", () => {
    assert.equal(typingText([]), "");
    assert.equal(typingText([{ name: "Dana" }]), "Dana is typing…");
    assert.equal(typingText([{ name: "Dana" }, { name: "Sam" }]), "Dana and Sam are typing…");
    assert.equal(typingText([{ name: "A" }, { name: "B" }, { name: "C" }]), "A, B and C are typing…");
  });
});

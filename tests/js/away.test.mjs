// "While you were away": after a hidden period or a reconnect, one summary of what arrived is
// asked for (after the catch-up settles) and replaces the toasts made while nobody looked.

import assert from "node:assert/strict";
import { test } from "node:test";

import { AwayWatcher } from "../../static/realtime/away.js";
import { FakeClock, settle } from "./fakes.mjs";

class Toast {
  constructor(name, { summary = false, error = false } = {}) {
    Object.assign(this, { name, summary, error, removed: false });
  }
  remove() {
    this.removed = true;
  }
  closest(selector) {
    return selector === "[data-away-summary]" && this.summary ? this : null;
  }
  matches(selector) {
    return selector === "[data-toast-error]" && this.error;
  }
}

function setup({ seq = 10, summary = "<div hx-swap-oob>summary</div>" } = {}) {
  const clock = new FakeClock();
  const page = { seq, toasts: [], asked: [], shown: [], busy: false };
  const watcher = new AwayWatcher({
    clock,
    busy: () => page.busy,
    lastSeq: () => page.seq,
    toasts: () => page.toasts.filter((toast) => !toast.removed),
    fetchSummary: async (after) => {
      page.asked.push(after);
      return summary;
    },
    show: (html) => {
      page.shown.push(html);
    },
  });
  watcher.connection("live");
  return { clock, page, watcher };
}

test("back from a hidden period with changes: one summary after they settle, replacing their toasts", async () => {
  const { clock, page, watcher } = setup();
  const before = new Toast("seen before");
  page.toasts.push(before);
  watcher.visibility(true);
  page.seq = 14; // changes applied while hidden, each with its toast
  const missed = [new Toast("message"), new Toast("3 updates")];
  page.toasts.push(...missed);
  const error = new Toast("could not send", { error: true });
  page.toasts.push(error);
  watcher.visibility(false);
  clock.advance(799);
  await settle();
  assert.deepEqual(page.asked, []);
  clock.advance(1);
  await settle();
  assert.deepEqual(page.asked, [10]); // everything after the seq it had when it was hidden
  assert.deepEqual(page.shown, ["<div hx-swap-oob>summary</div>"]);
  assert.ok(missed.every((toast) => toast.removed));
  assert.ok(!before.removed && !error.removed);
  // Once: looking away briefly with nothing new asks nothing.
  watcher.visibility(true);
  watcher.visibility(false);
  clock.advance(2000);
  await settle();
  assert.deepEqual(page.asked, [10]);
});

test("after a reconnect it waits for the catch-up to land before asking", async () => {
  const { clock, page, watcher } = setup({ seq: 20 });
  watcher.connection("reconnecting");
  watcher.connection("connecting");
  clock.advance(5000);
  watcher.connection("live");
  clock.advance(500);
  page.seq = 25; // the resumed frames are applied
  page.toasts.push(new Toast("5 updates"));
  watcher.applied();
  clock.advance(700);
  await settle();
  assert.deepEqual(page.asked, []); // the wait restarted with the batch
  clock.advance(100);
  await settle();
  assert.deepEqual(page.asked, [20]);
  assert.equal(page.toasts[0].removed, true);
});

test("nothing is asked while still hidden or not live, nor when nothing arrived", async () => {
  const { clock, page, watcher } = setup({ seq: 5 });
  watcher.visibility(true);
  watcher.connection("offline");
  clock.advance(5000);
  watcher.connection("live"); // reconnected in the background: still hidden
  clock.advance(5000);
  await settle();
  assert.deepEqual(page.asked, []);
  watcher.visibility(false);
  clock.advance(1000);
  await settle();
  assert.deepEqual(page.asked, []); // seq never moved
});

test("a 204 (nothing unseen) leaves the page's toasts alone", async () => {
  const { clock, page, watcher } = setup({ summary: "" });
  watcher.visibility(true);
  page.seq = 11;
  const toast = new Toast("points");
  page.toasts.push(toast);
  watcher.visibility(false);
  clock.advance(1000);
  await settle();
  assert.deepEqual(page.asked, [10]);
  assert.deepEqual(page.shown, []);
  assert.equal(toast.removed, false);
});

test("a catch-up still being applied when the wait ends is waited for, then summed up", async () => {
  const { clock, page, watcher } = setup({ seq: 30 });
  watcher.connection("reconnecting");
  watcher.connection("live");
  page.busy = true; // frames received, their POST still on its way
  clock.advance(800);
  await settle();
  assert.deepEqual(page.asked, []);
  page.seq = 33;
  page.toasts.push(new Toast("3 updates"));
  page.busy = false;
  clock.advance(800);
  await settle();
  assert.deepEqual(page.asked, [30]);
  assert.equal(page.toasts[0].removed, true);
});

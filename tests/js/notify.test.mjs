// Issue 11's client logic: every topic on every page's socket, a newer toast about the same
// record replacing the older one, and the redemption's question in the customer's words.

import assert from "node:assert/strict";
import { test } from "node:test";

import { confirmationText, confirmedRedeem } from "../../static/portal/redeem.js";
import { staleToasts } from "../../static/portal/toast-keys.js";
import { Subscriptions } from "../../static/realtime/subscriptions.js";
import { TOPICS } from "./fakes.mjs";

const toast = (name, key) => ({ name, dataset: key ? { toastKey: key } : {} });

test("only the newest toast per record stays; toasts without a key are never stale", () => {
  const toasts = [
    toast("moved to 14:00", "jobs:7"),
    toast("3 updates"),
    toast("invoice paid", "invoices:2"),
    toast("moved to 16:00", "jobs:7"),
    toast("another job", "jobs:8"),
    toast("moved to 13:00", "jobs:7"),
  ];
  assert.deepEqual(
    staleToasts(toasts).map((t) => t.name),
    ["moved to 14:00", "moved to 16:00"],
  );
  assert.deepEqual(staleToasts([toast("a", "jobs:7"), toast("b")]), []);
  assert.deepEqual(staleToasts([]), []);
});

test("the redemption's question says the points and what they are worth, in whole cents", () => {
  const text = "Redeem {points} points for ${amount} off your next appointment?";
  assert.equal(confirmationText(text, 150, 10), "Redeem 150 points for $15.00 off your next appointment?");
  assert.equal(confirmationText(text, 7, 10), "Redeem 7 points for $0.70 off your next appointment?");
  assert.equal(confirmationText(text, 12345, 10), "Redeem 12,345 points for $1,234.50 off your next appointment?");
});

test("after hello every known topic is carried; the page keeps its own for rows, none is released", () => {
  const topics = new Subscriptions(["jobs"]);
  assert.deepEqual([...topics.wanted], ["jobs"], "before hello: the page's own");
  assert.deepEqual(topics.learn([...TOPICS, "reviews"]), []);
  assert.deepEqual([...topics.wanted], [...TOPICS, "reviews"], "in the server's order");
  assert.ok(topics.isPageTopic("jobs") && !topics.isPageTopic("messages"));
  assert.equal(topics.want("messages"), false, "already carried: no subscribe frame");
  assert.equal(topics.release("messages"), false, "the page's notifications need it");
  topics.confirm(TOPICS);
  assert.equal(topics.active("live"), 5);
  assert.equal(topics.stateOf("loyalty", "live"), "live");
});

test("the first submit only asks; the submit after Yes for the same points posts", () => {
  const question = { textContent: "" };
  let focused = 0;
  const yes = { focus: () => focused++ };
  const box = { hidden: true, querySelector: (sel) => (sel === "[data-confirm-question]" ? question : yes) };
  const form = {
    dataset: { confirmText: "Redeem {points} points for ${amount} off your next appointment?", pointCents: "10" },
    querySelector: (sel) => (sel === "[data-redeem-confirm]" ? box : null),
  };
  assert.equal(confirmedRedeem(/** @type {any} */ (form), 200), false, "asks first");
  assert.equal(box.hidden, false);
  assert.equal(question.textContent, "Redeem 200 points for $20.00 off your next appointment?");
  assert.equal(focused, 1, "the focus goes to Yes");
  form.dataset.confirmed = "200"; // what "Yes, redeem" sets before submitting again
  assert.equal(confirmedRedeem(/** @type {any} */ (form), 200), true);
  assert.equal(box.hidden, true);
  assert.equal(form.dataset.confirmed, undefined, "a yes counts once");
  form.dataset.confirmed = "200";
  assert.equal(confirmedRedeem(/** @type {any} */ (form), 300), false, "other points ask again");
  assert.equal(form.dataset.confirmed, undefined, "and the stale yes is gone");
  const bare = { dataset: {}, querySelector: () => null };
  assert.equal(confirmedRedeem(/** @type {any} */ (bare), 5), true, "a form without the question posts");
});

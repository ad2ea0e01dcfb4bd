// The status UI: connection status components, the multi-subscription status and the announcer
// take their words from the templates' data attributes; the countdown ticks while reconnecting.

import assert from "node:assert/strict";
import { test } from "node:test";

import { Announcer, renderStatus, secondsUntil } from "../../static/realtime/status.js";
import { FakeDocument, FakeElement } from "./fake-dom.mjs";
import { portalPage } from "./portal-page.mjs";

function badge(extra = {}) {
  return new FakeElement({
    dataset: {
      connectionStatus: "",
      state: "connecting",
      labelLive: "Live",
      labelReconnecting: "Reconnecting in {s}s",
      descriptionReconnecting: "Trying again in {s} seconds.",
      ...extra,
    },
    children: [
      new FakeElement({ dataset: { connLabel: "" } }),
      new FakeElement({ dataset: { connDescription: "" } }),
      new FakeElement({ dataset: { connRetry: "" } }),
    ],
  });
}

function subscriptions() {
  const item = (topic) =>
    new FakeElement({ dataset: { topic, state: "connecting" }, children: [new FakeElement({ dataset: { subscriptionState: "" } })] });
  return new FakeElement({
    dataset: { subscriptionStatus: "", textLive: "Live", textConnecting: "Connecting", textInactive: "Not on this page" },
    children: [new FakeElement({ dataset: { activeCount: "" } }), ...["jobs", "invoices", "messages"].map(item)],
  });
}

const text = (el, key) => el.querySelector(`[data-${key}]`).textContent;

test("secondsUntil rounds up and never goes below 0", () => {
  assert.equal(secondsUntil(10_001, 9_000), 2);
  assert.equal(secondsUntil(10_000, 9_000), 1);
  assert.equal(secondsUntil(9_000, 10_000), 0);
});

test("connection status components show the state's words; static ones are left alone", () => {
  const live = badge();
  const frozen = badge({ static: "" });
  const doc = new FakeDocument([live, frozen]);
  renderStatus(doc, { state: "reconnecting", error: null, seconds: 7, topicState: () => "inactive" });
  assert.equal(live.dataset.state, "reconnecting");
  assert.equal(text(live, "conn-label"), "Reconnecting in 7s");
  assert.equal(text(live, "conn-description"), "Trying again in 7 seconds.");
  assert.equal(live.querySelector("[data-conn-retry]").hidden, false, "Retry now while reconnecting");
  assert.equal(frozen.dataset.state, "connecting");
  assert.equal(text(frozen, "conn-label"), "");

  renderStatus(doc, { state: "live", error: null, seconds: 0, topicState: () => "inactive" });
  assert.equal(text(live, "conn-label"), "Live");
  assert.equal(live.querySelector("[data-conn-retry]").hidden, true);
  renderStatus(doc, { state: "error", error: "This login may not see these updates.", seconds: 0, topicState: () => "inactive" });
  assert.equal(live.title, "This login may not see these updates.");
  assert.equal(text(live, "conn-label"), "error", "the state's name when the template has no words for it");
});

test("the multi-subscription status shows each topic's state and counts the live ones", () => {
  const list = subscriptions();
  const states = { jobs: "live", invoices: "inactive", messages: "connecting" };
  renderStatus(new FakeDocument([list]), { state: "live", error: null, seconds: 0, topicState: (topic) => states[topic] });
  const items = list.querySelectorAll("[data-topic]");
  assert.deepEqual(
    items.map((item) => [item.dataset.topic, item.dataset.state, text(item, "subscription-state")]),
    [
      ["jobs", "live", "Live"],
      ["invoices", "inactive", "Not on this page"],
      ["messages", "connecting", "Connecting"],
    ]
  );
  assert.equal(text(list, "active-count"), "1");
});

test("the announcer says each change once, and not the first live of a page load", () => {
  const region = new FakeElement({
    id: "realtime-announcer",
    dataset: { announceLive: "Live updates are on.", announceReconnecting: "Connection lost. Reconnecting.", announceConnecting: "" },
  });
  const announcer = new Announcer(new FakeDocument([region]));
  assert.equal(announcer.announce("connecting"), false);
  assert.equal(announcer.announce("live"), false);
  assert.equal(announcer.announce("reconnecting"), true);
  assert.equal(region.textContent, "Connection lost. Reconnecting.");
  assert.equal(announcer.announce("reconnecting"), false);
  assert.equal(announcer.announce("connecting"), false);
  assert.equal(announcer.announce("live"), true);
  assert.equal(region.textContent, "Live updates are on.");
});

test("the client counts down to the next attempt and the subscription status follows the socket", () => {
  const page = portalPage({ config: { backoffBaseMs: 8000, backoffCapMs: 8000 }, random: () => 0.5 });
  const status = badge();
  const list = subscriptions();
  page.doc.append(status);
  page.doc.append(list);
  page.client.start();
  const ws = page.sockets.last.accept();
  ws.receive({ type: "subscribed", topics: ["jobs", "messages"], seq: 40 });
  assert.equal(text(list, "active-count"), "2");
  ws.serverClose(1006); // retry in 6 s
  assert.equal(text(status, "conn-label"), "Reconnecting in 6s");
  assert.equal(text(list, "active-count"), "0");
  page.clock.advance(1000);
  assert.equal(text(status, "conn-label"), "Reconnecting in 5s");
  page.clock.advance(4000);
  assert.equal(text(status, "conn-label"), "Reconnecting in 1s");
  page.clock.advance(1000); // the attempt: still "reconnecting" until the server confirms
  assert.equal(status.dataset.state, "reconnecting");
  page.sockets.last.accept().receive({ type: "subscribed", topics: ["jobs", "messages"], seq: 40 });
  assert.equal(status.dataset.state, "live");
  assert.equal(text(status, "conn-label"), "Live");
});

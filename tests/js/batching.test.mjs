// Applying frames: seqs are batched for 100 ms and POSTed once each, in order, one POST at a
// time; a failure retries the same seqs; the session ending sends the tab to the login page;
// dashboard lists are trimmed and refilled.

import assert from "node:assert/strict";
import { test } from "node:test";

import { listSizes, refillLists, trimLists } from "../../static/realtime/lists.js";
import { FakeDocument, FakeElement } from "./fake-dom.mjs";
import { change, fakeHttp, postedSeqs, response, settle } from "./fakes.mjs";
import { portalPage } from "./portal-page.mjs";

function livePage(options) {
  const page = portalPage(options);
  page.client.start();
  const ws = page.sockets.last.accept();
  ws.receive({ type: "subscribed", topics: ["jobs", "messages"], seq: 0 });
  return { ...page, ws };
}

test("frames within the batch window go out as one POST of sorted, distinct seqs", async () => {
  const page = livePage({ seq: 40 });
  for (const seq of [43, 41, 42]) {
    page.clock.advance(60); // each new frame restarts the 100 ms wait
    page.ws.receive(change(seq));
  }
  for (const seq of [41, 39, 43]) page.ws.receive(change(seq)); // repeated, or older than the page
  page.clock.advance(99);
  await settle();
  assert.equal(page.http.posts().length, 0);
  page.clock.advance(1);
  await settle();
  assert.deepEqual(page.http.posts().map(postedSeqs), [[41, 42, 43]]);
  assert.equal(page.http.posts()[0].url, "/portal/live/");
  assert.equal(page.api.lastSeq, 43);
  assert.equal(page.doc.body.dataset.seq, "43");
  const applied = page.events.filter((event) => event.name === "portal:applied");
  assert.deepEqual(applied, [{ name: "portal:applied", detail: { seqs: [41, 42, 43], lastSeq: 43 } }]);

  page.ws.receive(change(42)); // already applied
  page.clock.advance(1000);
  await settle();
  assert.equal(page.http.posts().length, 1);
});

test("the updates feed's first page asks for its new entries with the rows", async () => {
  const page = livePage({ seq: 40 });
  page.ws.receive(change(41));
  page.clock.advance(100);
  await settle();
  page.doc.append(new FakeElement({ id: "updates-list", dataset: { liveFeed: "" } }));
  page.ws.receive(change(42));
  page.clock.advance(100);
  await settle();
  const feed = page.http.posts().map((post) => new URLSearchParams(post.body).get("feed"));
  assert.deepEqual(feed, [null, "1"]);
});

test("a frame arriving while a POST is on its way waits for the next one", async () => {
  const page = livePage({ seq: 40 });
  const answers = [];
  page.http.respond = () => new Promise((resolve) => answers.push(resolve));
  page.ws.receive(change(41));
  page.clock.advance(100);
  await settle();
  page.ws.receive(change(42));
  page.clock.advance(100);
  await settle();
  assert.equal(answers.length, 1, "one POST at a time");
  answers[0](response());
  await settle();
  page.clock.advance(100);
  await settle();
  assert.equal(answers.length, 2);
  answers[1](response());
  await settle();
  assert.deepEqual(page.http.posts().map(postedSeqs), [[41], [42]]);
  assert.equal(page.api.lastSeq, 42);
});

test("a failed POST is retried with the same seqs, and nothing counts as applied before", async () => {
  const page = livePage({ seq: 40 });
  page.http.respond = () => response({ status: 500 });
  page.ws.receive(change(41));
  page.clock.advance(100);
  await settle();
  assert.equal(page.api.lastSeq, 40);
  assert.equal(page.doc.body.dataset.seq, "40");
  assert.equal(page.log.warnings.length, 1);
  page.http.respond = () => response();
  page.clock.advance(1999);
  await settle();
  assert.equal(page.http.posts().length, 1, "waits liveRetryMs");
  page.clock.advance(1);
  await settle();
  assert.deepEqual(page.http.posts().map(postedSeqs), [[41], [41]]);
  assert.equal(page.api.lastSeq, 41);
});

test("the answer is swapped in by htmx before the seqs count as applied", async () => {
  const page = livePage({ seq: 40 });
  page.http.respond = () => response({ text: '<div id="job-41" hx-swap-oob="delete"></div>' });
  let seenLastSeq;
  page.htmx.swap = async (options) => {
    page.htmx.swaps.push(options);
    seenLastSeq = page.api.lastSeq;
  };
  page.ws.receive(change(41));
  page.clock.advance(100);
  await settle();
  assert.equal(page.htmx.swaps.length, 1);
  assert.equal(page.htmx.swaps[0].swap, "none");
  assert.equal(page.htmx.swaps[0].target, page.doc.body);
  assert.equal(seenLastSeq, 40);
  assert.equal(page.api.lastSeq, 41);
});

for (const [what, answer] of [
  ["a 401", response({ status: 401 })],
  ["the login page", response({ redirected: true, url: "http://portal.test/portal/login/?next=/portal/live/", text: "<form>" })],
]) {
  test(`a live POST answered with ${what}: the session ended, to the login page and no retry`, async () => {
    const page = livePage({ seq: 40 });
    page.http.respond = () => answer;
    page.ws.receive(change(41));
    page.clock.advance(100);
    await settle();
    assert.deepEqual(page.navigations, ["/portal/login/?next=%2Fportal%2F"]);
    assert.equal(page.api.state, "error");
    assert.equal(page.api.error, "Your session ended. Please log in again.");
    assert.equal(page.ws.readyState, 3);
    page.ws.receive(change(42));
    page.clock.advance(60_000);
    await settle();
    assert.equal(page.http.posts().length, 1);
    assert.equal(page.sockets.opened.length, 1);
  });
}

function list(limit, rows, dataset = {}) {
  return new FakeElement({ id: "jobs-upcoming", dataset: { limit: String(limit), ...dataset }, children: rows.map((id) => new FakeElement({ id })) });
}

test("lists are trimmed to their data-limit, from the end or the start", () => {
  const upcoming = list(2, ["job-1", "job-2", "job-3"]);
  const messages = list(2, ["message-1", "message-2", "message-3"], { limitFrom: "start" });
  trimLists(new FakeDocument([upcoming, messages]));
  assert.deepEqual(upcoming.children.map((row) => row.id), ["job-1", "job-2"]);
  assert.deepEqual(messages.children.map((row) => row.id), ["message-2", "message-3"]);
});

test("a list that was full and lost a row is refilled from its data-refill-url; others are not", async () => {
  const full = list(2, ["job-1", "job-2"], { refillUrl: "/portal/sections/jobs-upcoming/" });
  const short = list(3, ["job-5"], { refillUrl: "/portal/sections/jobs-past/" });
  const doc = new FakeDocument([full, short]);
  const before = listSizes(doc);
  full.children[0].remove(); // the swap took job-1 out
  short.children[0].remove();
  const http = fakeHttp();
  http.respond = () => response({ text: "<li>job-2</li><li>job-3</li>" });
  const swaps = [];
  const htmx = {
    async swap(options) {
      swaps.push(options);
      options.target.children = [];
      for (const id of ["job-2", "job-3", "job-4"]) options.target.append(new FakeElement({ id }));
    },
  };
  await refillLists(before, { root: doc, http, htmx, source: doc.body });
  assert.deepEqual(http.requests, [{ method: "GET", url: "/portal/sections/jobs-upcoming/" }]);
  assert.equal(swaps[0].swap, "innerHTML");
  assert.deepEqual(full.children.map((row) => row.id), ["job-2", "job-3"], "refilled, then trimmed to the limit");
});

// The shared HTTP helper: same-origin credentials, the CSRF token on POSTs, and one rule for
// "the session ended" (a 401, or a redirect to the login page).

import assert from "node:assert/strict";
import { test } from "node:test";

import { csrfToken, loginPageFor, portalHttp, sessionEnded } from "../../static/realtime/http.js";

const page = {
  querySelector: (selector) => (selector === 'meta[name="csrf-token"]' ? { getAttribute: (name) => (name === "content" ? "tok-123" : null) } : null),
};

function recordingFetch() {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, ...init });
    return { status: 200 };
  };
  return { fetch, calls };
}

test("csrfToken reads the meta tag, and is empty without one", () => {
  assert.equal(csrfToken(page), "tok-123");
  assert.equal(csrfToken({ querySelector: () => null }), "");
  assert.equal(csrfToken(undefined), "");
});

test("POST sends the CSRF token and same-origin credentials; GET sends no token", async () => {
  const { fetch, calls } = recordingFetch();
  const http = portalHttp({ fetch, doc: page });
  await http.post("/portal/live/", "seqs=1", "application/json");
  await http.get("/portal/sections/jobs-upcoming/");
  assert.deepEqual(calls, [
    {
      url: "/portal/live/",
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": "tok-123" },
      body: "seqs=1",
    },
    { url: "/portal/sections/jobs-upcoming/", credentials: "same-origin", headers: { Accept: "text/html" } },
  ]);
});

test("the session ended: a 401, or a redirect that landed on the login page", () => {
  const login = "/portal/login/";
  assert.equal(sessionEnded({ status: 401, redirected: false, url: "" }, login), true);
  assert.equal(sessionEnded({ status: 200, redirected: true, url: "http://a.test/portal/login/?next=/portal/live/" }, login), true);
  assert.equal(sessionEnded({ status: 200, redirected: true, url: "http://a.test/portal/" }, login), false);
  assert.equal(sessionEnded({ status: 200, redirected: false, url: "http://a.test/portal/login/" }, login), false);
  assert.equal(sessionEnded({ status: 403, redirected: false, url: "http://a.test/portal/live/" }, login), false);
  const http = portalHttp({ fetch: async () => ({}), loginUrl: "/accounts/login/" });
  assert.equal(http.ended({ status: 200, redirected: true, url: "http://a.test/accounts/login/" }), true);
});

test("the login page brings the customer back to where they were", () => {
  assert.equal(loginPageFor("/portal/login/", { pathname: "/portal/messages/", search: "?x=1" }), "/portal/login/?next=%2Fportal%2Fmessages%2F%3Fx%3D1");
});

// @ts-check
// The portal's realtime client, started on every page with topics (templates/portal/base.html
// loads it as a module). Protocol: docs/protocol.md. Components and JS API: docs/components.md.
//
// - One socket per tab (connection.js): subscribes to the page's topics (body[data-topics]) with
//   since = the last applied seq (cursor.js), starting from body[data-seq], the seq the server
//   rendered the page at. The topics the server knows come from its `hello`.
// - Change frames go to the JS API's handlers (listeners.js, api.js) and are collected for
//   ~100 ms, then POSTed (their seqs only) to the live endpoint, whose server-rendered rows,
//   counters and toast htmx swaps in (apply.js, lists.js). Only then do the seqs count as applied.
// - Reconnects with backoff and jitter (backoff.js; 1012 soon, 4401 to the login page, 4403
//   stops), pings every 25 s and drops a socket whose pong is late, closes while the tab is
//   hidden for a minute (lifecycle.js), and re-fetches the page on `resync`.
// - Joins the customer's presence room with this tab's status and relays typing
//   (portal-presence.js: `portalRealtime.presence`).
// - The status components and #realtime-announcer follow the state (status.js).

import { createPortalApi } from "./api.js";
import { watchAway } from "./away.js";
import { RealtimeClient } from "./client.js";
import { readConfig } from "./config.js";
import { socketUrl } from "./connection.js";
import { portalHttp } from "./http.js";
import { followPageLifecycle } from "./lifecycle.js";
import { createPresence, followActivity } from "./portal-presence.js";
import { browserClock } from "./timers.js";

const body = document.body;
const loginUrl = body.dataset.loginUrl || "/portal/login/";
/** @typedef {{htmx: import("./lists.js").Htmx, PORTAL_REALTIME_CONFIG?: Partial<import("./config.js").RealtimeConfig>}} PageGlobals */
const page = /** @type {PageGlobals} */ (/** @type {unknown} */ (window));

const client = new RealtimeClient({
  page: {
    topics: (body.dataset.topics || "").split(/\s+/).filter(Boolean),
    seq: Number(body.dataset.seq || 0),
    liveUrl: body.dataset.liveUrl || "",
  },
  config: readConfig(page.PORTAL_REALTIME_CONFIG),
  url: socketUrl(location, "/ws/realtime/"),
  WebSocket,
  clock: browserClock,
  random: Math.random,
  isOnline: () => navigator.onLine !== false,
  http: portalHttp({ loginUrl }),
  htmx: page.htmx,
  document,
  location,
  parseHtml: (html) => new DOMParser().parseFromString(html, "text/html"),
  emit: (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail })),
  navigate: (url) => location.assign(url),
});
// Every tab joins its customer's room (docs/protocol.md, "Presence and typing").
const presence = createPresence({
  connection: client.connection,
  clock: browserClock,
  config: client.connection.config,
  hidden: () => document.hidden,
  page: body.dataset.page,
});
followActivity(presence, { window, document });
const api = createPortalApi(client, { presence: presence.api });
Object.defineProperty(window, "portalRealtime", { value: api, configurable: false });

followPageLifecycle(client.connection, { window, document, pauseWhenHidden: true });
// "While you were away": one summary toast when the tab comes back to changes it missed.
watchAway({
  document,
  http: client.http,
  htmx: page.htmx,
  lastSeq: () => client.cursor.lastSeq,
  busy: () => client.applier.inflight || client.cursor.waiting > 0,
  clock: browserClock,
});
document.addEventListener("submit", (event) => {
  // Logging out from this tab: close its socket first, so only the other tabs see the 4401.
  // (Not when the logout was cancelled: static/portal/offline.js asks when messages wait.)
  if (!event.defaultPrevented && /** @type {Element} */ (event.target).matches?.("form[data-logout]")) client.leave();
});
document.addEventListener("click", (event) => {
  const retry = /** @type {Element} */ (event.target).closest?.("[data-conn-retry]");
  if (retry && !retry.closest("[data-static]")) api.reconnect();
});
client.start();

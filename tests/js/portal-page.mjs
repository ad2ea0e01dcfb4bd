// The portal page's client on fakes: a RealtimeClient with its public API, a fake socket,
// clock, HTTP, htmx and document, and records of the events it emits and where it navigates.

import { createPortalApi } from "../../static/realtime/api.js";
import { RealtimeClient } from "../../static/realtime/client.js";
import { readConfig } from "../../static/realtime/config.js";
import { FakeDocument, FakeElement } from "./fake-dom.mjs";
import { FakeClock, fakeHttp, fakeSockets } from "./fakes.mjs";

/**
 * A RealtimeClient on a fake page, with the public API over it. `state` is #realtime-state's
 * dataset; a live answer's text, as JSON, is what the fake htmx swaps into it.
 */
export function portalPage({ topics = ["jobs", "messages"], seq = 40, config = {}, state = {}, online = () => true, random = () => 0.5 } = {}) {
  const clock = new FakeClock();
  const sockets = fakeSockets(clock);
  const realtimeState = new FakeElement({ id: "realtime-state", dataset: state });
  const doc = new FakeDocument([new FakeElement({ dataset: { body: "", seq: String(seq) } }), realtimeState, new FakeElement({ id: "main" })]);
  const http = fakeHttp();
  const htmx = {
    swaps: [],
    async swap(options) {
      htmx.swaps.push(options);
      if (options.swap === "none" && options.text.startsWith("{")) Object.assign(realtimeState.dataset, JSON.parse(options.text));
    },
  };
  const events = [];
  const navigations = [];
  const log = { warnings: [], errors: [], warn: (...args) => log.warnings.push(args), error: (...args) => log.errors.push(args) };
  const client = new RealtimeClient({
    page: { topics, seq, liveUrl: "/portal/live/" },
    config: readConfig(config),
    url: "ws://portal.test/ws/realtime/",
    WebSocket: sockets.WebSocket,
    clock,
    random,
    isOnline: online,
    http,
    htmx,
    document: doc,
    location: { href: "http://portal.test/portal/", pathname: "/portal/", search: "" },
    parseHtml: (html) => ({ body: { dataset: { seq: html.match(/data-seq="(\d+)"/)?.[1] } }, querySelector: () => null }),
    emit: (name, detail) => events.push({ name, detail }),
    navigate: (url) => navigations.push(url),
    log,
  });
  const api = createPortalApi(client);
  return { client, api, clock, sockets, doc, http, htmx, events, navigations, log };
}

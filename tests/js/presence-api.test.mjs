// `portalRealtime.presence` (static/realtime/portal-presence.js; docs/components.md, "Presence
// and typing") over a Connection on a fake socket: joining on every hello, status changes,
// typing frames, and the room emptied when the socket drops.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { readConfig } from "../../static/realtime/config.js";
import { Connection } from "../../static/realtime/connection.js";
import { createPresence } from "../../static/realtime/portal-presence.js";
import { TYPING_GAP_MS } from "../../static/realtime/presence-state.js";
import { FakeClock, fakeSockets } from "./fakes.mjs";

describe("portalRealtime.presence over a Connection", () => {
  function presencePage({ hidden = false } = {}) {
    const clock = new FakeClock();
    const sockets = fakeSockets(clock);
    const page = { hidden };
    const config = readConfig({ idleMs: 1000 });
    const connection = new Connection({ url: "ws://t/ws/realtime/", WebSocket: sockets.WebSocket, clock, config, onFrame: () => {}, onStatus: () => {} });
    const presence = createPresence({ connection, clock, config, hidden: () => page.hidden, page: "messages" });
    const seen = [];
    presence.api.onChange((p) => seen.push(p.status()));
    connection.connect();
    return { clock, sockets, page, connection, presence, seen, ws: () => sockets.last };
  }

  test("joins on every hello with its status and page, and says when it goes idle or away", () => {
    const { clock, page, presence, ws, connection } = presencePage();
    assert.equal(presence.api.status(), "offline");
    ws().accept();
    assert.deepEqual(ws().framesOf("presence"), [{ type: "presence", status: "active", page: "messages" }]);
    assert.equal(presence.api.status(), "active");
    clock.advance(1000);
    page.hidden = true;
    presence.visibility();
    assert.deepEqual(
      ws().framesOf("presence").map((f) => f.status),
      ["active", "idle", "away"],
    );
    connection.drop();
    clock.advance(60_000);
    ws().accept(); // the reconnect joins again, as it is now
    assert.deepEqual(ws().framesOf("presence"), [{ type: "presence", status: "away", page: "messages" }]);
  });

  test("setTyping sends throttled typing frames; hiding the tab stops typing", () => {
    const { clock, page, presence, ws } = presencePage();
    ws().accept();
    presence.api.setTyping(true);
    presence.api.setTyping(true);
    clock.advance(TYPING_GAP_MS);
    page.hidden = true;
    presence.visibility();
    assert.deepEqual(ws().framesOf("typing").map((f) => f.typing), [true, false]);
  });

  test("the room and typing are readable and emptied when the socket drops", () => {
    const { presence, ws, connection } = presencePage();
    ws().accept();
    ws().receive({ type: "presence", online: { "user-1": { name: "Sam Staff", role: "staff", status: "active" } } });
    ws().receive({ type: "typing", user: "user-1", name: "Sam Staff", role: "staff", typing: true });
    assert.deepEqual(Object.keys(presence.api.onlineUsers), ["user-1"]);
    assert.deepEqual(presence.api.typing.map((t) => t.name), ["Sam Staff"]);
    connection.drop();
    assert.deepEqual([presence.api.onlineUsers, presence.api.typing, presence.api.status()], [{}, [], "offline"]);
    assert.ok(Object.isFrozen(presence.api));
  });
});

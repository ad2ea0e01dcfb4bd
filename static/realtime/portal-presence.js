// @ts-check
// `portalRealtime.presence`: the seed's `usePresence` over the page's one socket
// (docs/components.md, "Presence and typing"; the frames: docs/protocol.md). Every portal tab
// with a socket joins its customer's room with its own status (active, idle, away: from the
// page's visibility and the user's activity) and keeps it up to date; the room and who is typing
// in it are readable, with a callback on change. Typing frames go out through `setTyping`.

import { ActivityStatus, PresenceRoom, TypingSender } from "./presence-state.js";

/** @typedef {import("./frames.js").OnlineUser} OnlineUser */
/** @typedef {import("./presence-state.js").Typist} Typist */

/**
 * @typedef {object} PresenceApi
 * @property {() => "active" | "idle" | "away" | "offline"} status this tab's, `offline` while the socket is down
 * @property {Record<string, OnlineUser>} onlineUsers the room, one entry per user (`user-<id>`), with the most present status of their tabs
 * @property {Typist[]} typing other users typing now
 * @property {(callback: (presence: PresenceApi) => void) => () => void} onChange after every change of the room, the typing or this tab's status; returns unsubscribe
 * @property {(typing: boolean) => void} setTyping true on each keystroke (throttled here), false when the text was sent or cleared
 */

/**
 * Let a second owner hear a Connection's frames and statuses, after its first owner.
 * @param {import("./connection.js").Connection} connection
 * @param {{onFrame: (frame: import("./frames.js").ServerFrame) => void, onStatus: (status: import("./connection.js").ConnectionStatus) => void}} tap
 */
export function tapConnection(connection, tap) {
  const { onFrame, onStatus } = connection;
  connection.onFrame = (frame) => {
    onFrame(frame);
    tap.onFrame(frame);
  };
  connection.onStatus = (status) => {
    onStatus(status);
    tap.onStatus(status);
  };
}

/**
 * Presence for one tab's Connection.
 * @param {object} env
 * @param {import("./connection.js").Connection} env.connection
 * @param {import("./timers.js").Clock} env.clock
 * @param {import("./config.js").RealtimeConfig} env.config
 * @param {() => boolean} env.hidden the page's `document.hidden`
 * @param {string} [env.page] what this tab shows ("messages"), told to the others in the room
 * @returns {{api: Readonly<PresenceApi>, activity: () => void, visibility: () => void, leave: () => void}}
 *   `activity`, `visibility` and `leave` are for the page's event listeners (`followActivity`)
 */
export function createPresence({ connection, clock, config, hidden, page }) {
  /** @param {"active" | "idle" | "away"} status */
  const join = (status) => connection.send(page ? { type: "presence", status, page } : { type: "presence", status });
  /** @type {Set<(presence: PresenceApi) => void>} */
  const listeners = new Set();
  const notify = () => {
    for (const listener of [...listeners]) {
      try {
        listener(api);
      } catch (err) {
        console.error("presence listener failed:", err);
      }
    }
  };
  const room = new PresenceRoom({ clock, fadeMs: config.typingFadeMs, onChange: notify });
  const own = new ActivityStatus({
    clock,
    idleMs: config.idleMs,
    hidden,
    onStatus(value) {
      join(value);
      notify();
    },
  });
  const typing = new TypingSender({
    clock,
    send: (value) => connection.send({ type: "typing", typing: value }),
    refreshMs: config.typingRefreshMs,
    stopMs: config.typingStopMs,
  });

  tapConnection(connection, {
    onFrame(frame) {
      // Join (again, after a reconnect) once the page's own subscribe has gone out.
      if (frame.type === "hello") {
        join(own.status);
        notify();
      }
      room.receive(frame);
    },
    onStatus(value) {
      if (value === "open") return;
      typing.reset();
      room.clear();
      notify();
    },
  });

  /** @type {PresenceApi} */
  const api = Object.freeze({
    status: () => (connection.status === "open" ? own.status : "offline"),
    get onlineUsers() {
      return { ...room.online };
    },
    get typing() {
      return [...room.typing.values()];
    },
    onChange(callback) {
      listeners.add(callback);
      return () => void listeners.delete(callback);
    },
    setTyping(value) {
      if (value) typing.input();
      else typing.stop();
    },
  });
  return {
    api,
    activity: () => own.activity(),
    visibility() {
      if (hidden()) typing.stop();
      own.visibility();
    },
    leave: () => typing.stop(),
  };
}

const ACTIVITY_EVENTS = ["pointerdown", "pointermove", "keydown", "wheel", "touchstart", "focus"];

/**
 * Feed a presence the page's events: activity, visibility, and leaving.
 * @param {ReturnType<typeof createPresence>} presence
 * @param {{window: Pick<Window, "addEventListener">, document: Pick<Document, "addEventListener">}} env
 */
export function followActivity(presence, { window, document }) {
  for (const name of ACTIVITY_EVENTS) window.addEventListener(name, () => presence.activity(), { passive: true, capture: true });
  document.addEventListener("scroll", () => presence.activity(), { passive: true, capture: true });
  document.addEventListener("visibilitychange", () => presence.visibility());
  window.addEventListener("pagehide", () => presence.leave());
}

// @ts-check
// Presence and typing as one tab keeps them (docs/protocol.md, "Presence and typing"), with no
// DOM and no socket: the tab's own status from visibility and activity (ActivityStatus), when to
// send typing frames (TypingSender), and the room with who is typing in it (PresenceRoom). The
// portal (portal-presence.js) and the admin's panel (staff-presence.js) drive them.

import { applyPresence } from "./presence.js";
import { Timers } from "./timers.js";

/** @typedef {"active" | "idle" | "away"} PresenceStatus */
/** @typedef {import("./frames.js").OnlineUser} OnlineUser */
/** @typedef {{user: string, name: string, role: string}} Typist */

/**
 * A tab's status: `away` while hidden, `idle` once visible but untouched for `idleMs`, else
 * `active`. Activity (a key, a click, a scroll) and being shown again make it `active`.
 */
export class ActivityStatus {
  /**
   * @param {object} options
   * @param {import("./timers.js").Clock} options.clock
   * @param {number} options.idleMs
   * @param {() => boolean} options.hidden the page's `document.hidden`
   * @param {(status: PresenceStatus) => void} options.onStatus on every change
   */
  constructor({ clock, idleMs, hidden, onStatus }) {
    this.clock = clock;
    this.idleMs = idleMs;
    this.hidden = hidden;
    this.onStatus = onStatus;
    this.timers = new Timers(clock);
    this.lastActivity = clock.now();
    /** @type {PresenceStatus} */
    this.status = hidden() ? "away" : "active";
    if (this.status === "active") this.#armIdle(idleMs);
  }

  /** The user did something in this tab. Cheap enough for every pointer move. */
  activity() {
    this.lastActivity = this.clock.now();
    if (this.status === "idle") this.#set("active");
    if (this.status === "active" && !this.timers.has("idle")) this.#armIdle(this.idleMs);
  }

  /** The page's visibility changed. */
  visibility() {
    if (this.hidden()) {
      this.timers.clear("idle");
      this.#set("away");
    } else {
      this.activity(); // coming back to the tab is activity
      if (this.status === "away") this.#set("active");
      this.#armIdle(this.idleMs);
    }
  }

  stop() {
    this.timers.clearAll();
  }

  /** @param {number} ms */
  #armIdle(ms) {
    this.timers.after("idle", ms, () => {
      // Activity moved `lastActivity` on without re-arming: wait for the rest of the time.
      const quiet = this.clock.now() - this.lastActivity;
      if (quiet < this.idleMs) this.#armIdle(this.idleMs - quiet);
      else if (this.status === "active") this.#set("idle");
    });
  }

  /** @param {PresenceStatus} status */
  #set(status) {
    if (status === this.status) return;
    this.status = status;
    this.onStatus(status);
  }
}

// The server relays at most two typing frames a second per socket (REALTIME_TYPING_PER_SECOND)
// and drops the rest: a `false` sent right after a `true` could be lost, leaving "is typing…"
// until it fades. Frames are spaced by this much instead; the latest wish goes when it is due.
export const TYPING_GAP_MS = 600;

/**
 * When to send `typing` frames for one text box: `true` on the first keystroke and again every
 * `refreshMs` while typing goes on (so the other side's indicator does not fade), `false` after
 * `stopMs` without a keystroke, on send, or when the tab leaves. Never `false` unless `true` went,
 * and never two frames within `TYPING_GAP_MS`.
 */
export class TypingSender {
  /**
   * @param {object} options
   * @param {import("./timers.js").Clock} options.clock
   * @param {(typing: boolean) => boolean} options.send whether the frame went out
   * @param {number} options.refreshMs
   * @param {number} options.stopMs
   */
  constructor({ clock, send, refreshMs, stopMs }) {
    this.clock = clock;
    this.send = send;
    this.refreshMs = refreshMs;
    this.stopMs = stopMs;
    this.timers = new Timers(clock);
    this.wanted = false;
    this.typing = false; // what the others were last told
    this.sentAt = -Infinity; // the last `true` told
    this.frameAt = -Infinity; // the last frame of either value
  }

  /** A keystroke in the text box. */
  input() {
    this.wanted = true;
    if (!this.typing || this.clock.now() - this.sentAt >= this.refreshMs) this.#push();
    this.timers.after("stop", this.stopMs, () => this.stop());
  }

  /** Typing stopped: the message was sent, the box emptied, the pause was long, the tab left. */
  stop() {
    this.timers.clear("stop");
    this.wanted = false;
    if (this.typing) this.#push();
    else this.timers.clear("gap"); // a `true` still waiting for its turn need not go
  }

  /** The socket went down: the server says `false` for us; start over when it is back. */
  reset() {
    this.timers.clearAll();
    this.wanted = this.typing = false;
    this.sentAt = this.frameAt = -Infinity;
  }

  #push() {
    const wait = this.frameAt + TYPING_GAP_MS - this.clock.now();
    if (wait > 0) {
      if (!this.timers.has("gap")) this.timers.after("gap", wait, () => this.#due());
      return;
    }
    this.#due();
  }

  #due() {
    const value = this.wanted;
    if (value === this.typing && !(value && this.clock.now() - this.sentAt >= this.refreshMs)) return;
    if (!this.send(value)) return;
    this.typing = value;
    this.frameAt = this.clock.now();
    if (value) this.sentAt = this.frameAt;
  }
}

/**
 * The room as this socket hears it, and who in it is typing. An indicator fades after `fadeMs`
 * without a new frame (a lost `false`), and goes when its user leaves or the socket does.
 */
export class PresenceRoom {
  /**
   * @param {object} options
   * @param {import("./timers.js").Clock} options.clock
   * @param {number} options.fadeMs
   * @param {() => void} options.onChange after every change of `online` or `typing`
   */
  constructor({ clock, fadeMs, onChange }) {
    this.fadeMs = fadeMs;
    this.onChange = onChange;
    this.timers = new Timers(clock);
    /** @type {Record<string, OnlineUser>} */
    this.online = {};
    /** @type {Map<string, Typist>} */
    this.typing = new Map();
  }

  /**
   * Take a server frame; other types are ignored.
   * @param {import("./frames.js").ServerFrame} frame
   * @returns {boolean} whether it was a presence or typing frame
   */
  receive(frame) {
    if (frame.type === "presence" || frame.type === "presence_diff") {
      this.online = applyPresence(this.online, frame);
      for (const user of [...this.typing.keys()]) if (!this.online[user]) this.#stopTyping(user);
    } else if (frame.type === "typing") {
      if (frame.typing) {
        this.typing.set(frame.user, { user: frame.user, name: frame.name, role: frame.role });
        this.timers.after(`fade:${frame.user}`, this.fadeMs, () => {
          this.#stopTyping(frame.user);
          this.onChange();
        });
      } else {
        this.#stopTyping(frame.user);
      }
    } else {
      return false;
    }
    this.onChange();
    return true;
  }

  /** The socket went down: nobody is known to be here any more. */
  clear() {
    if (!Object.keys(this.online).length && !this.typing.size) return;
    this.timers.clearAll();
    this.online = {};
    this.typing.clear();
    this.onChange();
  }

  /**
   * Users of a role in the room, optionally only those with one of `statuses`.
   * @param {string} role
   * @param {string[]} [statuses]
   * @returns {OnlineUser[]}
   */
  people(role, statuses) {
    return Object.values(this.online).filter((p) => p.role === role && (!statuses || statuses.includes(p.status)));
  }

  /**
   * Who of a role is typing.
   * @param {string} role
   * @returns {Typist[]}
   */
  typists(role) {
    return [...this.typing.values()].filter((t) => t.role === role);
  }

  /** @param {string} user */
  #stopTyping(user) {
    this.typing.delete(user);
    this.timers.clear(`fade:${user}`);
  }
}

/**
 * "Sam is typing…", "Sam and Dana are typing…", or "" for nobody.
 * @param {{name: string}[]} typists
 * @returns {string}
 */
export function typingText(typists) {
  const names = typists.map((t) => t.name);
  if (!names.length) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]} are typing…`;
}

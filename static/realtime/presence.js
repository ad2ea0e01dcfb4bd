// @ts-check
// The room's presence as a socket hears it (docs/protocol.md, "Presence and typing"): the whole
// room first, then only what changed.

/** @typedef {import("./frames.js").OnlineUser} OnlineUser */

/**
 * The room after a presence frame: a `presence` frame replaces it, a `presence_diff` updates it.
 * @param {Record<string, OnlineUser>} online the room so far
 * @param {import("./frames.js").PresenceFrame | import("./frames.js").PresenceDiffFrame} frame
 * @returns {Record<string, OnlineUser>} a new object; `online` is left as it was
 */
export function applyPresence(online, frame) {
  if (frame.type === "presence") return { ...frame.online };
  const room = { ...online, ...frame.joined };
  for (const key of frame.left) delete room[key];
  return room;
}

// @ts-check
// The frames of docs/protocol.md as the browser sees them, and reading one off the socket.

/**
 * @typedef {"profile" | "jobs" | "invoices" | "messages" | "loyalty" | string} Topic
 *   The server names the topics in `hello`; these five are today's.
 */

/** @typedef {{type: "hello", customer: number, seq: number, topics: Topic[]}} HelloFrame */
/** @typedef {{type: "subscribed", topics: Topic[], seq: number}} SubscribedFrame */
/** @typedef {{type: "pong", seq: number}} PongFrame */
/** @typedef {{type: "resync", reason: string, seq: number}} ResyncFrame */
/** @typedef {{type: "error", code: string, message: string}} ErrorFrame */
/** @typedef {{name: string, role: string, status: string, page?: string}} OnlineUser page: what the user is viewing, when their most present tab said */
/** @typedef {{type: "presence", online: Record<string, OnlineUser>}} PresenceFrame the whole room */
/** @typedef {{type: "presence_diff", joined: Record<string, OnlineUser>, left: string[]}} PresenceDiffFrame */
/** @typedef {{type: "typing", user: string, name: string, role: string, typing: boolean}} TypingFrame */

/**
 * @typedef {object} ChangeFrame
 * @property {"change"} type
 * @property {number} seq the customer's change number: order by it
 * @property {Topic} topic
 * @property {"insert" | "update" | "delete"} op
 * @property {string} event e.g. "job.rescheduled"
 * @property {number} id
 * @property {Record<string, any> | null} new the row after (null for a delete)
 * @property {Record<string, any> | null} old the row before (null for an insert)
 * @property {string[]} changed
 * @property {string} at
 */

/**
 * @typedef {HelloFrame | SubscribedFrame | ChangeFrame | PongFrame | ResyncFrame | ErrorFrame
 *   | PresenceFrame | PresenceDiffFrame | TypingFrame} ServerFrame
 */

/**
 * @typedef {{type: "subscribe", topics: Topic[], since?: number | null}
 *   | {type: "unsubscribe", topics: Topic[]}
 *   | {type: "ping"}
 *   | {type: "presence", status: "active" | "idle" | "away" | "offline", page?: string}
 *   | {type: "typing", typing: boolean}} ClientFrame
 */

/**
 * One server frame from a text message, or null for anything that is not a JSON object with a
 * string `type` (the server never sends that; a proxy's noise is ignored).
 * @param {unknown} data
 * @returns {ServerFrame | null}
 */
export function parseFrame(data) {
  if (typeof data !== "string") return null;
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return null;
  }
  return frame && typeof frame === "object" && typeof frame.type === "string" ? frame : null;
}

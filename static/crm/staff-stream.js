// @ts-check
// The staff stream's pure logic (docs/protocol.md, "The staff stream"), without a browser:
// the cursor, the open count and which admin page a change concerns. staff-live.js does the DOM.

/**
 * @typedef {object} InboxRow  what staff see of an inbox item (`new` / `old` of a frame)
 * @property {number} id
 * @property {string} kind
 * @property {number} customer
 * @property {string} customer_name
 * @property {string} summary
 * @property {{model: string, id: number}} record
 * @property {string | null} handled_at
 *
 * @typedef {object} StaffChange
 * @property {"change"} type
 * @property {number} seq
 * @property {string} event  inbox.created | inbox.handled
 * @property {number} id
 * @property {InboxRow | null} new
 * @property {InboxRow | null} old
 *
 * @typedef {object} StaffState
 * @property {number} seq    the last staff seq applied
 * @property {number} count  open items at `seq`
 */

/**
 * Apply one change frame; a frame at or below the cursor was applied already.
 * @param {StaffState} state
 * @param {StaffChange} frame
 * @returns {StaffState}
 */
export function applyChange(state, frame) {
  if (frame.seq <= state.seq) return state;
  const wasOpen = Boolean(frame.old && !frame.old.handled_at);
  const isOpen = Boolean(frame.new && !frame.new.handled_at);
  return { seq: frame.seq, count: Math.max(0, state.count + Number(isOpen) - Number(wasOpen)) };
}

/**
 * What an admin URL shows: `{model: "crm.customer", id: 7}` for a change form,
 * `{model: "crm.customer", id: null}` for a change list, or null.
 * @param {string} pathname
 * @returns {{model: string, id: number | null} | null}
 */
export function adminPage(pathname) {
  const match = /^\/admin\/(\w+)\/(\w+)\/(?:(\d+)\/change\/)?$/.exec(pathname);
  if (!match) return null;
  return { model: `${match[1]}.${match[2]}`, id: match[3] ? Number(match[3]) : null };
}

/**
 * Whether a new inbox item concerns the record(s) this admin page shows: its record, or (on a
 * customer's page, which shows their jobs and messages inline) anything of that customer.
 * @param {{model: string, id: number | null} | null} page
 * @param {InboxRow} row
 * @returns {boolean}
 */
export function concernsPage(page, row) {
  if (!page) return false;
  if (page.model === row.record.model) return page.id === null || page.id === row.record.id;
  return page.model === "crm.customer" && page.id === row.customer;
}

/**
 * Whether a change deserves a toast: a new message or appointment request.
 * @param {StaffChange} frame
 */
export function toastWorthy(frame) {
  return frame.event === "inbox.created" && ["message", "request"].includes(frame.new?.kind || "");
}

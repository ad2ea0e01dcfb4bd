// @ts-check
// The staff inbox's "● online · on Messages" beside each item's customer (docs/protocol.md,
// "The staff stream": `customer_presence`). The newest state per customer by room version;
// painted on every row of that customer, including rows inserted later.

/**
 * @typedef {object} CustomerPresence
 * @property {number} customer
 * @property {"active" | "idle" | "away" | "offline"} status
 * @property {string} [page]
 * @property {number} version
 */

/**
 * Merge a frame's customers into `known`, keeping the newest (a higher room version) of each.
 * @param {Map<number, CustomerPresence>} known
 * @param {CustomerPresence[]} customers
 * @returns {number[]} the customers whose state changed
 */
export function mergePresence(known, customers) {
  const changed = [];
  for (const customer of customers) {
    const before = known.get(customer.customer);
    if (before && before.version >= customer.version) continue;
    known.set(customer.customer, customer);
    changed.push(customer.customer);
  }
  return changed;
}

/**
 * The words beside the customer: "● online · on Messages", "idle · on Invoices", "away", "offline".
 * @param {CustomerPresence | undefined} presence
 * @returns {string}
 */
export function presenceLabel(presence) {
  if (!presence || presence.status === "offline") return "offline";
  const status = presence.status === "active" ? "● online" : presence.status;
  if (presence.status === "away" || !presence.page) return status;
  return `${status} · on ${presence.page[0].toUpperCase()}${presence.page.slice(1)}`;
}

/**
 * Paint one customer's state on their inbox rows.
 * @param {ParentNode} root
 * @param {number} customer
 * @param {CustomerPresence | undefined} presence
 */
export function paintPresence(root, customer, presence) {
  for (const node of root.querySelectorAll(`.staff-inbox-item[data-customer="${customer}"] .staff-inbox-presence`)) {
    node.textContent = presenceLabel(presence);
    node.setAttribute("data-presence", presence ? presence.status : "offline");
  }
}

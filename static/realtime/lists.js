// @ts-check
// Dashboard lists show their first `data-limit` rows. After a swap they are trimmed to it, and a
// list that was full and lost a row is refilled from its `data-refill-url` (the same selector and
// limit the dashboard uses), since the server may have more rows than the page.

/** @typedef {{swap(options: Record<string, unknown>): Promise<unknown>}} Htmx */

/** @param {ParentNode} root */
function limitedLists(root) {
  return /** @type {HTMLElement[]} */ ([...root.querySelectorAll("[data-limit]")]);
}

/**
 * Remove the rows past each list's `data-limit` (from the start with `data-limit-from="start"`).
 * @param {ParentNode} root
 */
export function trimLists(root) {
  for (const list of limitedLists(root)) {
    const limit = Number(list.dataset.limit);
    while (list.children.length > limit) {
      const row = list.dataset.limitFrom === "start" ? list.firstElementChild : list.lastElementChild;
      row?.remove();
    }
  }
}

/**
 * How many rows each limited list has now (taken before a swap, for `refillLists`).
 * @param {ParentNode} root
 * @returns {Map<HTMLElement, number>}
 */
export function listSizes(root) {
  return new Map(limitedLists(root).map((list) => [list, list.children.length]));
}

/**
 * Refill every list that was full before the swap and is short now, then trim again.
 * A failed refill leaves the list short until the next change.
 * @param {Map<HTMLElement, number>} before from `listSizes`
 * @param {object} deps
 * @param {ParentNode} deps.root
 * @param {{get(url: string): Promise<Response>}} deps.http
 * @param {Htmx} deps.htmx
 * @param {Element} deps.source the swap's source element (the body)
 * @param {(...args: unknown[]) => void} [deps.warn]
 */
export async function refillLists(before, { root, http, htmx, source, warn = console.warn }) {
  for (const [list, count] of before) {
    const limit = Number(list.dataset.limit);
    const url = list.dataset.refillUrl;
    if (!url || !list.isConnected || count < limit || list.children.length >= limit) continue;
    try {
      const response = await http.get(url);
      if (!response.ok) throw new Error(`refill ${list.id}: HTTP ${response.status}`);
      await htmx.swap({ text: await response.text(), target: list, swap: "innerHTML", sourceElement: source });
    } catch (err) {
      warn("realtime:", err);
    }
  }
  trimLists(root);
}

// @ts-check
// Which toasts a newer one makes stale: a toast names the record it is about (`data-toast-key`,
// from the server: "jobs:17"), and only the newest toast per record stays. Three reschedules of
// one appointment leave one toast, its latest time; toasts of other records stay.

/**
 * @template {{dataset: DOMStringMap}} T
 * @param {T[]} toasts in document order, oldest first
 * @returns {T[]} the toasts to remove: each older one whose record has a newer toast
 */
export function staleToasts(toasts) {
  /** @type {Set<string>} */
  const newer = new Set();
  /** @type {T[]} */
  const stale = [];
  for (let i = toasts.length - 1; i >= 0; i -= 1) {
    const key = toasts[i].dataset.toastKey;
    if (!key) continue;
    if (newer.has(key)) stale.push(toasts[i]);
    else newer.add(key);
  }
  return stale.reverse();
}

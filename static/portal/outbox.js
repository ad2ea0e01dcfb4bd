// @ts-check
// Offline sending (docs/components.md, "Offline sending"): messages sent and messages marked
// read while the socket is down wait here, in the tab's storage (localStorage: they survive a
// reload), each with an idempotency key, and go once the socket is back, oldest first. The
// server makes one message per customer and key, and marking read twice is marking read once,
// so a retry after an answer that never arrived (or two tabs flushing at once) does no harm.
// Items waiting longer than MAX_AGE_MS are never sent (a message written days ago, sent at
// the next login, would surprise everyone): `expire` drops them for offline.js to show.
// No DOM here: offline.js shows the waiting items, tests drive this with fakes.

import { worthRetrying } from "../realtime/http.js";

/** How long an item may wait before it is dropped, not sent: a day. */
export const MAX_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * @typedef {{kind: "message", key: string, url: string, body: string, at: number}
 *   | {kind: "read", key: string, url: string, id: number, at: number}} OutboxItem
 */

/**
 * What posting an item came to: `sent` (with the server's answer), `refused` (the server said
 * no for good: dropped, with its message), or `failed` (unreachable or busy: kept for later).
 * @typedef {{outcome: "sent", answer: Record<string, any>} | {outcome: "refused", error: string}
 *   | {outcome: "failed"}} PostResult
 */

/** What became of an item that left the outbox: posted, or `expired` (waited too long, not sent). @typedef {PostResult | {outcome: "expired"}} Outcome */

/** @typedef {Pick<Storage, "getItem" | "setItem" | "removeItem">} StorageLike */

/** A fresh idempotency key: a UUID where the browser makes them, else random enough. */
export function newKey() {
  const cryptoApi = /** @type {Crypto | undefined} */ (globalThis.crypto);
  if (cryptoApi?.randomUUID) return cryptoApi.randomUUID();
  return `k${Date.now().toString(36)}${Math.random().toString(36).slice(2, 14)}`;
}

export class Outbox {
  /**
   * @param {object} options
   * @param {StorageLike} options.storage
   * @param {string} options.name the storage key: one per customer, so a shared browser never
   *   sends one customer's waiting message as another's
   * @param {(item: OutboxItem) => Promise<PostResult>} options.post
   * @param {(item: OutboxItem, result: Outcome) => void} [options.onDone] after `sent`, `refused` or `expired`
   * @param {() => number} [options.now] the time in ms (Date.now), to age items by their `at`
   * @param {number} [options.maxAgeMs]
   */
  constructor({ storage, name, post, onDone = () => {}, now = Date.now, maxAgeMs = MAX_AGE_MS }) {
    this.storage = storage;
    this.name = name;
    this.post = post;
    this.onDone = onDone;
    this.now = now;
    this.maxAgeMs = maxAgeMs;
    this.flushing = false;
  }

  /** @returns {OutboxItem[]} what waits, oldest first */
  items() {
    let raw = null;
    try {
      raw = this.storage.getItem(this.name);
    } catch {
      return []; // storage refused (private mode): nothing was kept either
    }
    if (!raw) return [];
    try {
      const items = JSON.parse(raw);
      return Array.isArray(items) ? items.filter((item) => item && typeof item.key === "string") : [];
    } catch {
      return [];
    }
  }

  /**
   * Keep an item until it is sent. A read of a message already waiting to be read is kept once.
   * @param {OutboxItem} item
   */
  add(item) {
    const items = this.items();
    if (item.kind === "read" && items.some((i) => i.kind === "read" && i.id === item.id)) return;
    if (items.some((i) => i.key === item.key)) return;
    this.#save([...items, item]);
  }

  /** @param {string} key */
  remove(key) {
    this.#save(this.items().filter((item) => item.key !== key));
  }

  /** Forget everything that waits (logging out): nothing of it is sent. */
  clear() {
    this.#save([]);
  }

  /**
   * Drop the items that waited longer than `maxAgeMs` (or have no valid `at`), each reported
   * to `onDone` as `expired`. @returns {number} how many
   */
  expire() {
    const now = this.now();
    const items = this.items();
    const stale = items.filter((item) => !(now - item.at <= this.maxAgeMs));
    if (!stale.length) return 0;
    this.#save(items.filter((item) => !stale.includes(item)));
    for (const item of stale) this.onDone(item, { outcome: "expired" });
    return stale.length;
  }

  /**
   * Post what waits, oldest first, one at a time, until done or one fails (the rest keep
   * their order for the next try). Concurrent calls share the running flush.
   * @returns {Promise<"done" | "failed">}
   */
  async flush() {
    if (this.flushing) return "failed";
    this.flushing = true;
    try {
      for (;;) {
        this.expire(); // an item may have come of age while the socket was down
        const [item] = this.items();
        if (!item) return "done";
        const result = await this.post(item);
        if (result.outcome === "failed") return "failed";
        this.remove(item.key);
        this.onDone(item, result);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** @param {OutboxItem[]} items */
  #save(items) {
    try {
      if (items.length) this.storage.setItem(this.name, JSON.stringify(items));
      else this.storage.removeItem(this.name);
    } catch {
      /* storage full or refused: the item stays in this page only until it goes */
    }
  }
}

/**
 * Turn a fetch's outcome into a PostResult: 2xx with `ok` is sent; 4xx (a refusal: empty, too
 * long, not yours) is refused; no answer, 5xx, 429 and 408 are worth trying again.
 * @param {() => Promise<{status: number, ok: boolean, json: () => Promise<any>}>} request
 * @returns {Promise<PostResult>}
 */
export async function postOnce(request) {
  let response;
  try {
    response = await request();
  } catch {
    return { outcome: "failed" };
  }
  if (worthRetrying(response.status)) return { outcome: "failed" };
  /** @type {Record<string, any>} */
  let answer = {};
  try {
    answer = await response.json();
  } catch {
    /* not JSON */
  }
  if (response.ok && answer.ok) return { outcome: "sent", answer };
  return { outcome: "refused", error: answer.error || `Not sent (HTTP ${response.status}).` };
}

/**
 * The question before logging out with items waiting (they are discarded).
 * @param {OutboxItem[]} items
 * @returns {string}
 */
export function discardQuestion(items) {
  const sends = items.filter((item) => item.kind === "message").length;
  const reads = items.length - sends;
  const many = (/** @type {number} */ n) => (n === 1 ? "1 message is" : `${n} messages are`);
  const parts = [];
  if (sends) parts.push(`${many(sends)} not sent yet and will be discarded.`);
  if (reads) parts.push(`${many(reads)} not marked as read yet and will stay unread.`);
  return `${parts.join(" ")} Log out anyway?`;
}

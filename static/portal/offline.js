// @ts-check
// The page's side of offline sending (outbox.js; docs/components.md, "Offline sending"): a
// message sent, or marked read, while the socket is down waits in the outbox and on the page as
// "Waiting to send" (after a reload too); once the socket is live again the outbox is sent, each
// waiting row becoming the real one. Other tabs of the customer see the same outbox. Logging
// out discards what waits (after asking); what waited longer than a day is dropped, not sent.

import { portalHttp } from "../realtime/http.js";
import { changeUnread } from "./counts.js";
import { discardQuestion, MAX_AGE_MS, Outbox, postOnce } from "./outbox.js";
import { showToast } from "./toasts.js";

/** @typedef {import("./outbox.js").OutboxItem} OutboxItem */
/** @typedef {import("./outbox.js").Outcome} Outcome */
/** @typedef {{isConnected: boolean} | undefined} Realtime */

const RETRY_MS = 5000; // the server was busy or unreachable with the socket up: try again after this
const WAITING = "Waiting to send";

const body = document.body;
const loginUrl = body.dataset.loginUrl || "/portal/login/";
const http = portalHttp({ loginUrl });
const htmx = () => /** @type {{htmx: import("../realtime/lists.js").Htmx}} */ (/** @type {unknown} */ (window)).htmx;
const realtime = () => /** @type {{portalRealtime?: Realtime}} */ (/** @type {unknown} */ (window)).portalRealtime;

/** @type {Outbox | null} */
let outbox = null;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let retry;

/** True while a send would be lost: the browser is offline, or the page's socket is not live. */
export function socketDown() {
  if (navigator.onLine === false) return true;
  const live = realtime();
  return live ? !live.isConnected : false;
}

/** @param {OutboxItem} item */
function post(item) {
  const data = new FormData();
  data.set("key", item.key);
  if (item.kind === "message") data.set("body", item.body);
  return postOnce(async () => {
    const response = await http.post(item.url, data, "application/json");
    // The session ended: keep it for when the customer is back (the outbox is theirs alone).
    if (http.ended(response)) return { status: 503, ok: false, json: async () => ({}) };
    return response;
  });
}

/** @param {string} key */
const waitingRow = (key) => /** @type {HTMLElement | null} */ (document.querySelector(`[data-outbox-key="${CSS.escape(key)}"]`));

/**
 * Show a message row as waiting: the pending row of the send, or one made from the template.
 * @param {Extract<OutboxItem, {kind: "message"}>} item
 * @param {HTMLElement | null} [row]
 */
function showWaitingMessage(item, row = waitingRow(item.key)) {
  const list = document.getElementById("message-list");
  const template = /** @type {HTMLTemplateElement | null} */ (document.getElementById("pending-message-template"));
  if (!row) {
    if (!list || !template) return;
    row = /** @type {HTMLElement} */ (template.content.firstElementChild?.cloneNode(true));
    row.id = `message-waiting-${item.key}`;
    /** @type {HTMLElement} */ (row.querySelector("[data-pending-body]")).textContent = item.body;
    list.append(row);
  }
  row.dataset.outboxKey = item.key;
  row.classList.add("message--waiting");
  const status = row.querySelector("[data-field='read']");
  if (status) status.textContent = WAITING;
}

/**
 * Show a message as read, with its read waiting to be sent.
 * @param {Extract<OutboxItem, {kind: "read"}>} item
 */
function showWaitingRead(item) {
  const row = document.getElementById(`message-${item.id}`);
  if (!row || waitingRow(item.key)) return;
  const form = /** @type {HTMLFormElement | null} */ (row.querySelector("form[data-action='mark-read']"));
  if (form) form.hidden = true;
  const note = document.createElement("p");
  note.className = "message-status message-status--waiting";
  note.dataset.outboxKey = item.key;
  note.textContent = `Read · ${WAITING.toLowerCase()}`;
  row.append(note);
  if (!row.classList.contains("message--unread")) return;
  row.classList.remove("message--unread");
  note.dataset.lowered = ""; // the counts went down for it: up again if it is not sent
  changeUnread(-1);
}

/**
 * A read that will not be sent: the message shows unread again, with its button.
 * @param {HTMLElement} note its "waiting to send" note
 */
function unsentRead(note) {
  const row = note.closest(".message");
  const form = /** @type {HTMLFormElement | null | undefined} */ (row?.querySelector("form[data-action='mark-read']"));
  if (form) form.hidden = false;
  if ("lowered" in note.dataset) {
    row?.classList.add("message--unread");
    changeUnread(1);
  }
  note.remove();
}

/** Show what waits (at load, and when another tab changed the outbox). */
function showWaiting() {
  if (!outbox) return;
  const items = outbox.items();
  const keys = new Set(items.map((item) => item.key));
  for (const item of items) {
    if (item.kind === "message") showWaitingMessage(item);
    else showWaitingRead(item);
  }
  // Sent by another tab: the realtime echo brings its real row.
  for (const row of document.querySelectorAll("[data-outbox-key]")) {
    const el = /** @type {HTMLElement} */ (row);
    if (keys.has(el.dataset.outboxKey || "")) continue;
    if (el.classList.contains("message--waiting")) el.remove();
    else sentRead(el);
  }
}

/**
 * @param {OutboxItem} item
 * @param {Outcome} result
 */
async function done(item, result) {
  const row = waitingRow(item.key);
  if (item.kind === "read") {
    if (row && result.outcome === "sent") sentRead(row);
    else if (row) unsentRead(row);
  }
  if (result.outcome === "expired") {
    if (item.kind === "message") expiredMessage(item, row);
    return;
  }
  if (result.outcome === "refused") {
    if (item.kind === "message") row?.remove();
    const title = item.kind === "message" ? "Message not sent" : "Could not mark as read";
    showToast({ type: "info", title, message: result.error, error: true });
    return;
  }
  if (item.kind !== "message" || !row) return;
  const { id, html } = result.answer;
  // The realtime echo may have rendered the message already; keep exactly one element.
  if (document.getElementById(`message-${id}`) || !html) row.remove();
  else await htmx().swap({ text: html, target: row, swap: "outerHTML", sourceElement: document.body });
}

/**
 * A message that waited too long is not sent: say so, and give its text back in the box.
 * @param {Extract<OutboxItem, {kind: "message"}>} item
 * @param {HTMLElement | null} row
 */
function expiredMessage(item, row) {
  row?.remove();
  const box = /** @type {HTMLTextAreaElement | null} */ (document.querySelector("#message-form textarea[name='body']"));
  const back = box && !box.value.trim();
  if (back) box.value = item.body;
  const hours = Math.round(MAX_AGE_MS / 3_600_000);
  const short = item.body.length > 80 ? `${item.body.slice(0, 79)}…` : item.body;
  const where = back ? "It is back in the message box: send it again if it still matters." : "Send it again if it still matters.";
  showToast({ type: "info", title: "Message not sent", message: `“${short}” waited more than ${hours} hours and was not sent. ${where}`, error: true });
}

/** @param {HTMLElement} note a read's "waiting to send" note */
function sentRead(note) {
  note.textContent = "Read";
  note.classList.remove("message-status--waiting");
  delete note.dataset.outboxKey;
}

/** Send what waits, if the socket is live; when that fails, try again a little later. */
export async function flush() {
  clearTimeout(retry);
  if (!outbox || socketDown() || !outbox.items().length) return;
  if ((await outbox.flush()) === "failed" && outbox.items().length) retry = setTimeout(flush, RETRY_MS);
}

/**
 * Keep an action for when the socket is back, and show it waiting.
 * @param {OutboxItem} item
 * @param {HTMLElement | null} [row] a message's pending row
 * @returns {boolean} false when there is no outbox (a page without a customer)
 */
export function waitToSend(item, row = null) {
  if (!outbox) return false;
  outbox.add(item);
  if (item.kind === "message") showWaitingMessage(item, row);
  else showWaitingRead(item);
  // The socket is up but the post did not get through: no reconnect will come to send it.
  if (!socketDown()) {
    clearTimeout(retry);
    retry = setTimeout(flush, RETRY_MS);
  }
  return true;
}

/**
 * Logging out discards what waits, after asking: "Cancel" keeps the customer logged in. In the
 * capture phase: before realtime.js closes the socket for a logout (it skips a cancelled one).
 * @param {Event} event
 */
function logOut(event) {
  const form = /** @type {Element} */ (event.target);
  if (!outbox || !form.matches?.("form[data-logout]")) return;
  const items = outbox.items();
  if (items.length && !window.confirm(discardQuestion(items))) {
    event.preventDefault();
    return;
  }
  outbox.clear(); // never sent at the next login, whoever logs in
}

/** Start the page's outbox: show what waits, and send it whenever the socket is live. */
export function startOutbox() {
  const customer = body.dataset.customer;
  if (!customer || typeof localStorage === "undefined") return;
  outbox = new Outbox({ storage: localStorage, name: `portal-outbox:${customer}`, post, onDone: (item, result) => void done(item, result) });
  outbox.expire(); // before showing: what waited too long never shows as waiting
  showWaiting();
  document.addEventListener("submit", logOut, true);
  document.addEventListener("portal:realtime-state", (event) => {
    if (/** @type {CustomEvent} */ (event).detail?.state === "live") void flush();
  });
  window.addEventListener("storage", (event) => {
    if (event.key !== outbox?.name) return;
    showWaiting();
    void flush(); // kept by a tab whose socket is down: this one may be live
  });
  void flush();
}

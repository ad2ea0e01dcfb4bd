// @ts-check
// The customer's actions (forms with data-action): each shows its change at once, posts with
// `Accept: application/json`, and on a refusal takes the change back and shows the server's
// message under its field and as an error toast. Rows, counters and toasts for changes come from
// the server (static/realtime/); this only shows the customer's own action early.

import { loginPageFor, portalHttp, worthRetrying } from "../realtime/http.js";
import { clearErrors, showError } from "./form-errors.js";
import { changeUnread, setPoints } from "./counts.js";
import { isDirty, mergeForm, parseForm, restore } from "./form-merge.js";
import { socketDown, waitToSend } from "./offline.js";
import { newKey } from "./outbox.js";
import { confirmedRedeem } from "./redeem.js";
import { showToast } from "./toasts.js";

/**
 * `unreachable`: no answer, or one worth trying again with the same key (http.js, worthRetrying).
 * @typedef {{ok: true, [key: string]: any} | {ok: false, error: string, field?: string, unreachable?: boolean}} Answer
 */

const loginUrl = document.body.dataset.loginUrl || "/portal/login/";
const http = portalHttp({ loginUrl });
const htmx = () => /** @type {{htmx: import("../realtime/lists.js").Htmx}} */ (/** @type {unknown} */ (window)).htmx;

/**
 * POST the form; the answer's JSON, or why it failed.
 * @param {HTMLFormElement} form
 * @param {FormData} [data]
 * @returns {Promise<Answer>}
 */
async function post(form, data = new FormData(form)) {
  let response;
  try {
    response = await http.post(form.action, data, "application/json");
  } catch {
    return { ok: false, error: "We could not reach the server. Check your connection and try again.", unreachable: true };
  }
  /** @type {Record<string, any>} */
  let answer = {};
  try {
    answer = await response.json();
  } catch {
    /* not JSON: a server error page */
  }
  if (response.ok && answer.ok) return /** @type {Answer} */ (answer);
  if (http.ended(response)) location.assign(loginPageFor(loginUrl, location));
  const error = answer.error || `Something went wrong (HTTP ${response.status}).`;
  // Busy, or a proxy timed out (the post may even have been made): a send can wait and retry.
  return { ok: false, error, field: answer.field || "", unreachable: worthRetrying(response.status) };
}

/**
 * @param {HTMLFormElement} form
 * @param {string} title
 * @param {{error: string, field?: string}} result
 */
function refused(form, title, result) {
  showError(form, result.error, result.field);
  showToast({ type: "info", title, message: result.error, error: true });
}

/**
 * @param {string} id
 * @param {string} value
 */
function setText(id, value) {
  const el = document.getElementById(id);
  if (el) el.textContent = value;
}

/**
 * @param {HTMLFormElement} form
 * @param {string} text
 */
function status(form, text) {
  const el = form.querySelector("[data-form-status]");
  if (el) el.textContent = text;
}

/** @returns {number | null} the points balance the page shows */
function balance() {
  const value = Number(document.getElementById("points-balance")?.textContent);
  return Number.isFinite(value) ? value : null;
}

/** The redeem input's max follows the balance the page shows. */
function syncRedeemMax() {
  const input = /** @type {HTMLInputElement | null} */ (document.querySelector("#redeem-form input[name='points']"));
  const points = balance();
  if (input && points !== null) input.max = String(Math.max(points, 0));
}

/** @type {Record<string, (form: HTMLFormElement) => Promise<void>>} */
const handlers = {
  async "send-message"(form) {
    const field = /** @type {HTMLTextAreaElement} */ (form.elements.namedItem("body"));
    const text = field.value.trim();
    if (!text) {
      showError(form, form.dataset.errorBlank || "", "body"); // inline hint, nothing is sent
      return;
    }
    const data = new FormData(form); // before the field is cleared below
    // One key per message: a retry (offline sending, a lost answer) never makes a second one.
    const key = newKey();
    data.set("key", key);
    const list = /** @type {HTMLElement} */ (document.getElementById("message-list"));
    const template = /** @type {HTMLTemplateElement} */ (document.getElementById("pending-message-template"));
    const pending = /** @type {HTMLElement} */ (template.content.firstElementChild?.cloneNode(true));
    pending.id = `message-pending-${Date.now()}`;
    /** @type {HTMLElement} */ (pending.querySelector("[data-pending-body]")).textContent = text;
    list.append(pending);
    pending.scrollIntoView({ block: "nearest" });
    field.value = "";
    const waiting = { kind: /** @type {const} */ ("message"), key, url: form.action, body: text, at: Date.now() };
    if (socketDown() && waitToSend(waiting, pending)) return;
    const result = await post(form, data);
    if (!result.ok && result.unreachable && waitToSend(waiting, pending)) return;
    if (!result.ok) {
      pending.remove();
      if (!field.value) field.value = text;
      refused(form, "Message not sent", result);
      return;
    }
    // The realtime echo may have rendered the message already; keep exactly one element.
    if (document.getElementById(`message-${result.id}`)) pending.remove();
    else await htmx().swap({ text: result.html, target: pending, swap: "outerHTML", sourceElement: document.body });
  },

  async "mark-read"(form) {
    const row = form.closest(".message");
    const id = Number(row?.id.replace("message-", ""));
    const waiting = { kind: /** @type {const} */ ("read"), key: newKey(), url: form.action, id, at: Date.now() };
    if (socketDown() && waitToSend(waiting)) return;
    row?.classList.remove("message--unread");
    form.hidden = true;
    const undo = changeUnread(-1);
    const result = await post(form);
    if (result.ok) return;
    // Put back as it was; then keep it for later (which takes it off again, once), or say why not.
    undo();
    row?.classList.add("message--unread");
    if (result.unreachable && waitToSend(waiting)) return;
    form.hidden = false;
    showToast({ type: "info", title: "Could not mark as read", message: result.error, error: true });
  },

  async redeem(form) {
    const input = /** @type {HTMLInputElement} */ (form.elements.namedItem("points"));
    const raw = input.value.trim();
    const points = Number(raw);
    const available = balance();
    // Checked here against the balance the page shows, so the balance never goes negative.
    if (!/^\d+$/.test(raw) || points < 1) {
      showError(form, form.dataset.errorWhole || "", "points");
      return;
    }
    if (available !== null && points > available) {
      const message = (form.dataset.errorBalance || "").replace("{asked}", String(points)).replace("{available}", String(available));
      showError(form, message, "points");
      return;
    }
    if (!confirmedRedeem(form, points)) return; // asks first; "Yes, redeem" submits again
    const before = document.getElementById("points-balance")?.textContent;
    setPoints(String(Number(available) - points));
    status(form, "");
    const result = await post(form);
    if (!result.ok) {
      if (before != null) setPoints(before);
      syncRedeemMax();
      refused(form, "Points not redeemed", result);
      return;
    }
    form.reset();
    setPoints(String(result.balance));
    syncRedeemMax();
    status(form, result.notice); // what they got, and what is left
  },

  async "update-contact"(form) {
    const fields = ["name", "email", "phone", "address"];
    const input = (/** @type {string} */ name) => /** @type {HTMLInputElement | null} */ (form.elements.namedItem(name));
    // Only the fields the customer changed show optimistically: the others may be staff's newer values.
    const changed = fields.filter((f) => input(f) && isDirty(/** @type {HTMLInputElement} */ (input(f))));
    const before = Object.fromEntries(fields.map((f) => [f, document.getElementById(`profile-${f}`)?.textContent]));
    for (const f of changed) setText(`profile-${f}`, input(f)?.value.trim() || "");
    status(form, "Saving…");
    const result = await post(form);
    if (!result.ok) {
      for (const f of changed) if (before[f] != null) setText(`profile-${f}`, before[f]);
      status(form, "");
      refused(form, "Details not saved", result);
      return;
    }
    for (const f of fields) setText(`profile-${f}`, result.profile[f]);
    const saved = parseForm(result.html);
    if (saved) mergeForm(form, saved);
    status(form, result.notice);
  },

  async "update-preferences"(form) {
    status(form, "Saving…");
    const result = await post(form);
    if (!result.ok) {
      restore(form); // to the preferences as they were before this edit
      status(form, "");
      refused(form, "Preferences not saved", result);
      return;
    }
    const saved = parseForm(result.html);
    if (saved) mergeForm(form, saved);
    status(form, result.notice);
  },
};

/** Run the data-action forms' handlers instead of a plain post (which still works without script). */
export function handleActions() {
  document.addEventListener("portal:applied", syncRedeemMax);
  document.addEventListener("submit", (event) => {
    const form = /** @type {HTMLElement} */ (event.target).closest("form[data-action]");
    if (!(form instanceof HTMLFormElement)) return;
    const handler = handlers[form.dataset.action || ""];
    if (!handler || !window.fetch) return; // no script support: the form posts normally
    event.preventDefault();
    clearErrors(form);
    const button = /** @type {HTMLButtonElement | null} */ (form.querySelector('[type="submit"]'));
    handler(form)
      .catch((err) => console.error("portal action failed:", err))
      .finally(() => button && (button.disabled = false));
    // Keep the form usable for the next message; double submits are what we block.
    if (button && form.dataset.action !== "send-message") button.disabled = true;
  });
}

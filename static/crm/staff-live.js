// @ts-check
// Every admin page of a staff member with crm.view_customer (templates/admin/base_site.html):
// the staff stream over /ws/staff/ (docs/protocol.md, "The staff stream") keeps the header's
// open count, toasts new messages and requests in the admin's own message style, says so when a
// customer just changed the record on screen, and keeps /admin/inbox/ live. The socket is the
// portal client's Connection (backoff, heartbeat, 1012 restarts); resume is `since` = last seq.

import { readConfig } from "../realtime/config.js";
import { Connection, socketUrl } from "../realtime/connection.js";
import { followPageLifecycle } from "../realtime/lifecycle.js";
import { browserClock } from "../realtime/timers.js";
import { mergePresence, paintPresence } from "./inbox-presence.js";
import { adminPage, applyChange, concernsPage, toastWorthy } from "./staff-stream.js";

const link = /** @type {HTMLElement | null} */ (document.getElementById("staff-inbox-link"));

/** @param {string} tag @param {string} className @param {string} [text] */
function el(tag, className, text = "") {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

/** A toast in the admin's messagelist style, with a link; it goes after a while. */
function toast(text, href) {
  let list = document.getElementById("staff-toasts");
  if (!list) {
    list = el("ul", "messagelist staff-toasts");
    list.id = "staff-toasts";
    list.setAttribute("role", "status");
    list.setAttribute("aria-live", "polite");
    document.body.append(list);
  }
  const item = el("li", "info staff-toast", `${text} `);
  const anchor = /** @type {HTMLAnchorElement} */ (el("a", "", "Open"));
  anchor.href = href;
  item.append(anchor);
  list.append(item);
  setTimeout(() => item.remove(), 8000);
}

/** "Alice changed their phone number — reload", above the form or list, once per item. */
function notice(row) {
  const main = document.getElementById("content-main") || document.getElementById("content");
  if (!main || document.getElementById(`staff-notice-${row.id}`)) return;
  const box = el("ul", "messagelist staff-notice");
  box.id = `staff-notice-${row.id}`;
  const item = el("li", "warning", `${row.summary} — `);
  const reload = /** @type {HTMLAnchorElement} */ (el("a", "", "reload"));
  reload.href = location.href;
  item.append(reload);
  const after = el("span", "", " to see it. Saving this form now is refused if it would overwrite the change.");
  item.append(after);
  box.append(item);
  // Below the page's object tools (History, View on site), which float at the top.
  const tools = main.querySelector(".object-tools");
  if (tools) tools.after(box);
  else main.prepend(box);
}

/** Customers' portal presence, newest per customer (inbox-presence.js). */
const presences = new Map();

/** Items handled while their row was on its way: it must not land after it left. */
const handledIds = new Set();

/** The inbox page: insert a new item's row, drop handled ones. */
async function followInbox(frame) {
  const list = document.getElementById("staff-inbox-list");
  if (!list || list.dataset.showing !== "open") return;
  const existing = document.getElementById(`inbox-item-${frame.id}`);
  if (frame.new && frame.new.handled_at) {
    handledIds.add(frame.id);
    existing?.remove();
  } else if (!existing) {
    const response = await fetch(`/admin/inbox/items/${frame.id}/`, { credentials: "same-origin" });
    if (!response.ok || handledIds.has(frame.id) || document.getElementById(`inbox-item-${frame.id}`)) return;
    const holder = document.createElement("template");
    holder.innerHTML = (await response.text()).trim(); // our own server's fragment, escaped by Django
    list.prepend(holder.content);
    if (frame.new) paintPresence(list, frame.new.customer, presences.get(frame.new.customer));
  }
}

function showCount(count) {
  const badge = link?.querySelector(".staff-inbox-count");
  if (badge) {
    badge.textContent = String(count);
    badge.setAttribute("data-state", count ? "open" : "none");
    badge.setAttribute("aria-label", `${count} open`);
  }
  document.querySelectorAll(".staff-inbox-count-inline").forEach((node) => (node.textContent = String(count)));
}

// Inbox forms post in the background: the stream, not this page, shows the result everywhere.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.inboxAction) return;
  event.preventDefault();
  const response = await fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  const answer = await response.json().catch(() => ({ error: "The server did not answer." }));
  if (!response.ok) toast(answer.error || "Refused.", location.href);
  else if (form.dataset.inboxAction === "reply") form.reset();
});

if (link) {
  let state = { seq: Number(link.dataset.staffSeq), count: Number(link.dataset.openCount) };
  const page = adminPage(location.pathname);
  const connection = new Connection({
    url: socketUrl(location, "/ws/staff/"),
    WebSocket,
    clock: browserClock,
    isOnline: () => navigator.onLine !== false,
    config: readConfig(/** @type {any} */ (window).PORTAL_REALTIME_CONFIG),
    onFrame(frame) {
      if (frame.type === "hello") {
        connection.send({ type: "subscribe", topics: ["inbox"], since: state.seq });
      } else if (frame.type === "resync") {
        location.reload(); // only when the server's stream is behind this page (a restore)
      } else if (frame.type === "customer_presence") {
        const customers = /** @type {any} */ (frame).customers || [];
        for (const id of mergePresence(presences, customers)) paintPresence(document, id, presences.get(id));
      } else if (frame.type === "change") {
        const change = /** @type {import("./staff-stream.js").StaffChange} */ (/** @type {unknown} */ (frame));
        if (change.seq <= state.seq) return;
        state = applyChange(state, change);
        showCount(state.count);
        link.dataset.staffSeq = String(state.seq);
        const row = change.new;
        if (row && change.event === "inbox.created") {
          if (toastWorthy(change)) toast(`${row.summary}.`, `/admin/inbox/#inbox-item-${row.id}`);
          if (concernsPage(page, row)) notice(row);
        }
        followInbox(change);
      }
    },
    onStatus(status) {
      link.dataset.live = status;
    },
  });
  followPageLifecycle(connection, { window, document, pauseWhenHidden: false });
  connection.connect();
}

// @ts-check
// Staff side of presence (docs/protocol.md, "Presence and typing"): on a customer's admin page
// (templates/admin/crm/customer/change_form.html), show whether the customer has the portal open
// (with their status, and the page they are on) and is typing, which other staff have the page
// open (`data-self` is this user's room key, left out), and tell the customer's portal
// that staff are here (active, idle or away, as a portal tab does) and typing. The socket is the
// portal client's Connection (same backoff, heartbeat and resume rules), watching that customer
// with `?customer=<id>`; it stays open while the tab is hidden (staff show as "away").

import { readConfig } from "./config.js";
import { Connection, socketUrl } from "./connection.js";
import { followPageLifecycle } from "./lifecycle.js";
import { createPresence, followActivity } from "./portal-presence.js";
import { typingText } from "./presence-state.js";
import { browserClock } from "./timers.js";

/** @typedef {import("./frames.js").OnlineUser} OnlineUser */

/**
 * "Alice Example (active, on Messages)"
 * @param {OnlineUser} person
 */
function describe(person) {
  const page = person.page ? `, on ${person.page[0].toUpperCase()}${person.page.slice(1)}` : "";
  return `${person.name} (${person.status}${page})`;
}

/**
 * The admin conversation's indicator: after the "write a message" box, made here so the inline's
 * template stays Django's.
 * @param {HTMLTextAreaElement | null} box
 * @returns {HTMLElement | null}
 */
function typingLine(box) {
  if (!box) return null;
  const line = document.createElement("p");
  line.id = "admin-typing";
  line.className = "portal-typing";
  line.setAttribute("role", "status");
  line.setAttribute("aria-live", "polite");
  line.hidden = true;
  box.insertAdjacentElement("afterend", line);
  return line;
}

/** @param {HTMLElement} panel `#portal-presence`, with `data-customer` */
function showPresence(panel) {
  const text = /** @type {HTMLElement} */ (panel.querySelector(".portal-presence-text"));
  const box = /** @type {HTMLTextAreaElement | null} */ (document.querySelector("textarea[name$='body']:not([name*='__prefix__'])"));
  const line = typingLine(box);
  /** @type {string | null} shown while the socket is not open */
  let trouble = "Portal: connecting…";
  let troubleState = "connecting";

  /**
   * @param {string} state
   * @param {string} words
   */
  function show(state, words) {
    panel.dataset.state = state;
    text.textContent = words;
  }

  function render() {
    const typists = presence.api.typing.filter((t) => t.role === "customer");
    const words = typingText(typists);
    if (line) {
      line.textContent = words;
      line.hidden = !words;
    }
    if (trouble) return show(troubleState, trouble);
    const online = presence.api.onlineUsers;
    const customers = Object.values(online).filter((p) => p.role === "customer");
    // Other staff on this customer's page, so two people do not answer the same message.
    const colleagues = Object.entries(online)
      .filter(([key, p]) => p.role === "staff" && key !== panel.dataset.self)
      .map(([, p]) => `${p.name} (${p.status})`);
    const also = colleagues.length ? ` · Also here: ${colleagues.join(", ")}` : "";
    if (words) show("typing", `Portal: ${words}${also}`);
    else if (customers.length) show("online", `Portal: ${customers.map(describe).join(", ")} online${also}`);
    else show("offline", `Portal: the customer is not online${also}`);
  }

  const connection = new Connection({
    url: socketUrl(location, "/ws/realtime/", { customer: panel.dataset.customer || "" }),
    WebSocket,
    clock: browserClock,
    isOnline: () => navigator.onLine !== false,
    config: readConfig(/** @type {any} */ (window).PORTAL_REALTIME_CONFIG),
    onFrame() {},
    onStatus(status) {
      if (status === "open") trouble = null;
      else if (status === "stopped") [trouble, troubleState] = ["Portal presence unavailable (no permission)", "error"];
      else if (status !== "idle" && status !== "connecting") [trouble, troubleState] = ["Portal: reconnecting…", "connecting"];
      render();
    },
  });
  // page "customer": this page shows the conversation, so the customer's typing is relayed here.
  const presence = createPresence({ connection, clock: browserClock, config: connection.config, hidden: () => document.hidden, page: "customer" });
  presence.api.onChange(render);
  followActivity(presence, { window, document });

  // Staff typing a message body on this page: tell the customer's portal; saving the form sends it.
  box?.addEventListener("input", () => presence.api.setTyping(box.value.trim() !== ""));
  box?.form?.addEventListener("submit", () => presence.api.setTyping(false));
  followPageLifecycle(connection, { window, document, pauseWhenHidden: false });
  connection.connect();
}

const panel = document.getElementById("portal-presence");
if (panel) showPresence(panel);

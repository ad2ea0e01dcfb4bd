// @ts-check
// Staff side of presence (docs/protocol.md, "Presence and typing"): on a customer's admin page
// (templates/admin/crm/customer/change_form.html), show whether the customer has the portal open
// and is typing, and tell the customer's portal that staff are here and typing. The socket is
// the portal client's Connection (same backoff, heartbeat and resume rules), watching that
// customer with `?customer=<id>`; it stays open while the tab is hidden (staff show as "away").

import { readConfig } from "./config.js";
import { Connection, socketUrl } from "./connection.js";
import { followPageLifecycle } from "./lifecycle.js";
import { applyPresence } from "./presence.js";
import { browserClock } from "./timers.js";

const TYPING_IDLE_MS = 3000; // staff stopped typing: say so after this pause

/** @typedef {Record<string, import("./frames.js").OnlineUser>} Online */

/** @param {HTMLElement} panel `#portal-presence`, with `data-customer` */
function showPresence(panel) {
  const text = /** @type {HTMLElement} */ (panel.querySelector(".portal-presence-text"));
  /** @type {Online} */
  let online = {};
  /** @type {string | null} */
  let typingName = null;

  /**
   * @param {string} state
   * @param {string} words
   */
  function show(state, words) {
    panel.dataset.state = state;
    text.textContent = words;
  }

  function render() {
    const customers = Object.values(online).filter((person) => person.role === "customer");
    if (typingName) show("typing", `Portal: ${typingName} is typing…`);
    else if (customers.length) show("online", `Portal: ${customers.map((p) => `${p.name} (${p.status})`).join(", ")} online`);
    else show("offline", "Portal: the customer is not online");
  }

  const here = () => /** @type {"away" | "active"} */ (document.hidden ? "away" : "active");

  const connection = new Connection({
    url: socketUrl(location, "/ws/realtime/", { customer: panel.dataset.customer || "" }),
    WebSocket,
    clock: browserClock,
    isOnline: () => navigator.onLine !== false,
    config: readConfig(null),
    onFrame(frame) {
      if (frame.type === "hello") {
        connection.send({ type: "subscribe", topics: ["messages"] });
        connection.send({ type: "presence", status: here() });
      } else if (frame.type === "presence" || frame.type === "presence_diff") {
        online = applyPresence(online, frame);
        render();
      } else if (frame.type === "typing" && frame.role === "customer") {
        typingName = frame.typing ? frame.name : null;
        render();
      }
    },
    onStatus(status) {
      if (status === "open" || status === "idle") return;
      online = {};
      typingName = null;
      if (status === "stopped") show("error", "Portal presence unavailable (no permission)");
      else if (status !== "connecting") show("connecting", "Portal: reconnecting…");
    },
  });

  // Staff typing a message body on this page: tell the customer's portal, then stop after a pause.
  let sentTyping = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let typingTimer;
  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!(field instanceof HTMLTextAreaElement) || !/body$/.test(field.name)) return;
    if (!sentTyping) sentTyping = connection.send({ type: "typing", typing: true });
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      connection.send({ type: "typing", typing: false });
      sentTyping = false;
    }, TYPING_IDLE_MS);
  });
  document.addEventListener("visibilitychange", () => connection.send({ type: "presence", status: here() }));
  followPageLifecycle(connection, { window, document, pauseWhenHidden: false });
  connection.connect();
}

const panel = document.getElementById("portal-presence");
if (panel) showPresence(panel);

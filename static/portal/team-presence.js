// @ts-check
// The messages page's side of presence (docs/components.md, "Presence and typing"), on the public
// `portalRealtime.presence`: "Our team is online" while a staff member has this customer's admin
// page open and in view, "Sam is typing…" while one types a reply, and this customer's own typing
// sent from the message box (stopped by sending, emptying the box, a pause, or leaving the tab).

import { typingText } from "../realtime/presence-state.js";

/** @typedef {import("../realtime/portal-presence.js").PresenceApi} PresenceApi */

const WATCHING = ["active", "idle"]; // a staff tab that is hidden (away) is not watching

/**
 * @param {PresenceApi} presence
 * @param {HTMLElement | null} team `#team-presence`
 * @param {HTMLElement | null} typing `#typing-indicator`
 */
function render(presence, team, typing) {
  const staff = Object.values(presence.onlineUsers).filter((p) => p.role === "staff" && WATCHING.includes(p.status));
  if (team) {
    team.hidden = !staff.length;
    team.dataset.state = staff.length ? "online" : "offline";
    team.title = staff.map((p) => p.name).join(", ");
  }
  if (typing) {
    const text = typingText(presence.typing.filter((t) => t.role === "staff"));
    typing.textContent = text;
    typing.hidden = !text;
  }
}

/** Show the team's presence and typing, and send the customer's typing, where the page has them. */
export function showTeamPresence() {
  const presence = /** @type {{portalRealtime?: {presence: PresenceApi | null}}} */ (/** @type {unknown} */ (window)).portalRealtime
    ?.presence;
  if (!presence) return; // a page without a socket
  const team = document.getElementById("team-presence");
  const typing = document.getElementById("typing-indicator");
  if (team || typing) {
    presence.onChange(() => render(presence, team, typing));
    render(presence, team, typing);
  }
  const form = document.getElementById("message-form");
  const box = /** @type {HTMLTextAreaElement | null} */ (form?.querySelector("textarea[name='body']") || null);
  if (!form || !box) return;
  box.addEventListener("input", () => presence.setTyping(box.value.trim() !== ""));
  form.addEventListener("submit", () => presence.setTyping(false));
}

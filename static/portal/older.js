// @ts-check
// "Show older" is plain htmx (hx-get on the button). This follows a link to a row older than the
// first page (a toast's "View details" for an old invoice): it loads older pages until the row
// is there, then goes to it.

import { portalHttp } from "../realtime/http.js";

const MAX_PAGES = 50;
const http = portalHttp();

/**
 * Load the next older page the way its button would.
 * @param {Element} control `[data-load-older]`
 * @returns {Promise<boolean>} whether a page came
 */
async function loadOlder(control) {
  const url = control.querySelector("button[hx-get]")?.getAttribute("hx-get");
  if (!url) return false;
  const response = await http.get(url);
  if (!response.ok) return false;
  const htmx = /** @type {{htmx: import("../realtime/lists.js").Htmx}} */ (/** @type {unknown} */ (window)).htmx;
  await htmx.swap({ text: await response.text(), swap: "none", sourceElement: document.body, target: document.body });
  return true;
}

/** Bring the row named by the URL's #fragment onto the page, if it is an older one. */
async function revealTarget() {
  const id = decodeURIComponent(location.hash.slice(1));
  if (!/^[a-z]+-\d+$/.test(id) || document.getElementById(id)) return;
  for (let page = 0; page < MAX_PAGES && !document.getElementById(id); page++) {
    const control = document.querySelector("[data-load-older]");
    if (!control || !(await loadOlder(control))) return;
  }
  if (document.getElementById(id)) location.replace(`#${id}`); // :target and the scroll
}

/** Reveal the linked row now (htmx is loaded by then) and whenever the #fragment changes. */
export function revealLinkedRows() {
  const reveal = () => revealTarget().catch((err) => console.warn("portal:", err));
  window.addEventListener("hashchange", reveal);
  if (/** @type {any} */ (window).htmx) reveal();
  else document.addEventListener("DOMContentLoaded", reveal, { once: true });
}

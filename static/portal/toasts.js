// @ts-check
// Toasts in the page's #toasts region: each dismisses itself after 6 s, pausing while it is
// hovered or focused, at most four stay, and a newer toast about the same record replaces the
// older one. Their words come from the server (live fragments,
// flash messages) or, for a refused action, from `showToast` over the page's #toast-template.

import { staleToasts } from "./toast-keys.js";

const TOAST_MS = 6000;
const MAX_TOASTS = 4;

/** @typedef {HTMLElement & {_timer?: ReturnType<typeof setTimeout>, _armed?: boolean}} Toast */

/** @param {Toast} toast */
function dismiss(toast) {
  clearTimeout(toast._timer);
  toast.classList.add("toast--leaving");
  setTimeout(() => toast.remove(), 150);
}

/** @param {Toast} toast */
function arm(toast) {
  if (toast._armed) return;
  toast._armed = true;
  let remaining = TOAST_MS;
  let started = Date.now();
  const start = () => {
    started = Date.now();
    clearTimeout(toast._timer);
    toast._timer = setTimeout(() => dismiss(toast), remaining);
  };
  const pause = () => {
    clearTimeout(toast._timer);
    remaining = Math.max(1000, remaining - (Date.now() - started));
  };
  const hovered = () => toast.matches(":hover") || toast.contains(document.activeElement);
  toast.addEventListener("mouseenter", pause);
  toast.addEventListener("focusin", pause);
  toast.addEventListener("mouseleave", () => hovered() || start());
  toast.addEventListener("focusout", () => setTimeout(() => hovered() || start(), 0));
  toast.querySelector(".toast-dismiss")?.addEventListener("click", () => dismiss(toast));
  start();
}

/** @param {HTMLElement} region */
function armAll(region) {
  let toasts = /** @type {Toast[]} */ ([...region.querySelectorAll(".toast:not(.toast--leaving)")]);
  // A newer toast about the same record replaces the older one at once (toast-keys.js).
  const stale = staleToasts(toasts);
  for (const toast of stale) {
    clearTimeout(toast._timer);
    toast.remove();
  }
  toasts = toasts.filter((toast) => !stale.includes(toast));
  toasts.forEach(arm);
  toasts.slice(0, Math.max(0, toasts.length - MAX_TOASTS)).forEach(dismiss);
}

/** Arm the toasts the page has and every one added later. */
export function watchToasts() {
  const region = document.getElementById("toasts");
  if (!region) return;
  new MutationObserver(() => armAll(region)).observe(region, { childList: true, subtree: true });
  armAll(region);
}

/**
 * Show a toast made here (an action's error) from the server-rendered template: text only.
 * @param {{type?: string, title?: string, message?: string, error?: boolean}} toast
 */
export function showToast({ type = "info", title = "", message = "", error = false }) {
  const template = /** @type {HTMLTemplateElement | null} */ (document.getElementById("toast-template"));
  const region = document.getElementById("toasts");
  const made = /** @type {HTMLElement | null | undefined} */ (template?.content.firstElementChild?.cloneNode(true));
  if (!made || !region) return;
  made.dataset.toastType = type;
  made.className = `toast toast--${type}${error ? " toast--error" : ""}`;
  if (error) made.dataset.toastError = "";
  const titleEl = made.querySelector("[data-toast-title]");
  const messageEl = made.querySelector("[data-toast-message]");
  if (titleEl) titleEl.textContent = title;
  if (messageEl) messageEl.textContent = message;
  region.append(made);
}

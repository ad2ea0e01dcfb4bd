// Portal page behaviour: toasts (auto-dismiss, pause on hover/focus), the customer actions with
// optimistic updates and inline errors, live merging of the profile forms, "Show older" for a
// linked row, and the phone nav. Rows, counters and toasts for changes come from the server
// (see static/realtime/realtime.js); this file only shows the customer's own action at once and
// takes it back if the server refuses. Words shown here come from the server or the templates.
(function () {
  "use strict";

  const TOAST_MS = 6000;
  const MAX_TOASTS = 4;
  const region = document.getElementById("toasts");
  const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  // --- toasts --------------------------------------------------------------------------------------

  function dismiss(toast) {
    clearTimeout(toast._timer);
    toast.classList.add("toast--leaving");
    setTimeout(() => toast.remove(), 150);
  }

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

  function armAll() {
    if (!region) return;
    const toasts = [...region.querySelectorAll(".toast")];
    toasts.forEach(arm);
    toasts.slice(0, Math.max(0, toasts.length - MAX_TOASTS)).forEach(dismiss);
  }

  if (region) {
    new MutationObserver(armAll).observe(region, { childList: true, subtree: true });
    armAll();
  }

  // A toast made here (an action's error) from the server-rendered template: text only.
  function showToast({ type = "info", title = "", message = "", error = false }) {
    const template = document.getElementById("toast-template");
    if (!template || !region) return;
    const toast = template.content.firstElementChild.cloneNode(true);
    toast.dataset.toastType = type;
    toast.className = `toast toast--${type}${error ? " toast--error" : ""}`;
    if (error) toast.dataset.toastError = "";
    toast.querySelector("[data-toast-title]").textContent = title;
    toast.querySelector("[data-toast-message]").textContent = message;
    region.append(toast);
  }
  window.portalToasts = Object.freeze({ show: showToast });

  // --- inline errors -------------------------------------------------------------------------------

  function errorSlot(form, field) {
    return (field && form.querySelector(`[data-error-for="${CSS.escape(field)}"]`)) || form.querySelector("[data-form-error]");
  }

  function describedBy(control, id, on) {
    const ids = new Set((control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean));
    if (on) ids.add(id);
    else ids.delete(id);
    if (ids.size) control.setAttribute("aria-describedby", [...ids].join(" "));
    else control.removeAttribute("aria-describedby");
  }

  function clearError(form, control) {
    const slot = control && form.querySelector(`[data-error-for="${CSS.escape(control.name)}"]`);
    if (!slot) return;
    slot.hidden = true;
    slot.textContent = "";
    control.removeAttribute("aria-invalid");
    describedBy(control, slot.id, false);
  }

  function clearErrors(form) {
    for (const control of form.querySelectorAll("[aria-invalid]")) clearError(form, control);
    for (const slot of form.querySelectorAll("[data-error-for], [data-form-error]")) {
      slot.hidden = true;
      slot.textContent = "";
    }
  }

  // The message under its field (aria-invalid, aria-describedby, focus), or above the buttons.
  function showError(form, message, field) {
    const control = field ? form.elements.namedItem(field) : null;
    const slot = errorSlot(form, control ? field : "");
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
    }
    if (control instanceof Element) {
      control.setAttribute("aria-invalid", "true");
      if (slot?.id) describedBy(control, slot.id, true);
      control.focus();
    }
  }

  document.addEventListener("input", (event) => {
    const control = event.target;
    if (control.form && control.getAttribute?.("aria-invalid")) clearError(control.form, control);
  });

  // --- forms that follow live changes -----------------------------------------------------------
  //
  // A form with data-merge-live (the profile's two) arrives in the live fragments whenever its
  // record changes. It is merged, never swapped whole: a field the customer has changed (its value
  // differs from the value it was drawn with) or is in keeps what they typed; every other field,
  // and its hidden `initial-<name>` (what the server compares with to write only what changed),
  // takes the new value.

  function fieldsOf(form) {
    return [...form.elements].filter(
      (el) => el.name && el.name !== "csrfmiddlewaretoken" && !el.name.startsWith("initial-") && !["submit", "button", "hidden"].includes(el.type)
    );
  }

  function isDirty(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
    if (el.tagName === "SELECT") return [...el.options].some((option) => option.selected !== option.defaultSelected);
    return el.value !== el.defaultValue;
  }

  function sameValue(el, from) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked === from.defaultChecked;
    return el.value === from.value;
  }

  function settle(el, from) {
    if (el.type === "checkbox" || el.type === "radio") {
      el.defaultChecked = from.defaultChecked;
      el.checked = from.defaultChecked;
    } else if (el.tagName === "SELECT") {
      const chosen = new Set([...from.options].filter((option) => option.defaultSelected).map((option) => option.value));
      for (const option of el.options) {
        option.defaultSelected = chosen.has(option.value);
        option.selected = chosen.has(option.value);
      }
    } else {
      el.defaultValue = from.defaultValue;
      el.value = from.defaultValue;
    }
  }

  function mergeForm(form, incoming) {
    for (const from of fieldsOf(incoming)) {
      const el = form.elements.namedItem(from.name);
      if (!(el instanceof Element)) continue;
      const editing = el === document.activeElement || isDirty(el);
      if (editing && !sameValue(el, from)) continue;
      settle(el, from);
      const original = form.elements.namedItem(`initial-${from.name}`);
      const next = incoming.elements.namedItem(`initial-${from.name}`);
      if (original instanceof Element && next instanceof Element) original.value = next.value;
    }
  }

  function parseForm(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content.querySelector("form");
  }

  // Live fragments: merge instead of the out-of-band swap htmx would do.
  document.addEventListener("htmx:before:swap", (event) => {
    const tasks = event.detail?.tasks;
    if (!Array.isArray(tasks)) return;
    for (let i = tasks.length - 1; i >= 0; i--) {
      const { type, target, fragment } = tasks[i];
      if (type !== "oob" || !(target instanceof HTMLFormElement) || !target.hasAttribute("data-merge-live")) continue;
      const incoming = fragment?.querySelector("form");
      if (incoming) mergeForm(target, incoming);
      tasks.splice(i, 1);
    }
  });

  // Back to the values the form was drawn with (the last saved ones): a refused save's rollback.
  function restore(form) {
    for (const el of fieldsOf(form)) {
      if (el.type === "checkbox" || el.type === "radio") el.checked = el.defaultChecked;
      else if (el.tagName === "SELECT") for (const option of el.options) option.selected = option.defaultSelected;
      else el.value = el.defaultValue;
    }
  }

  // --- actions -------------------------------------------------------------------------------------

  async function post(form, data = new FormData(form)) {
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: data,
      });
    } catch (err) {
      return { ok: false, error: "We could not reach the server. Check your connection and try again." };
    }
    let answer = {};
    try {
      answer = await response.json();
    } catch (err) {
      /* not JSON: a server error page */
    }
    if (response.ok && answer.ok) return answer;
    if (response.status === 401) location.assign(document.body.dataset.loginUrl || "/portal/login/");
    return { ok: false, error: answer.error || `Something went wrong (HTTP ${response.status}).`, field: answer.field || "" };
  }

  function refused(form, title, result) {
    showError(form, result.error, result.field);
    showToast({ type: "info", title, message: result.error, error: true });
  }

  function setText(id, value) {
    const el = document.getElementById(id);
    if (el) el.textContent = value;
  }

  function status(form, text) {
    const el = form.querySelector("[data-form-status]");
    if (el) el.textContent = text;
  }

  function swapIn(target, html) {
    return window.htmx.swap({ text: html, target, swap: "outerHTML", sourceElement: document.body });
  }

  function balance() {
    const value = Number(document.getElementById("points-balance")?.textContent);
    return Number.isFinite(value) ? value : null;
  }

  // The redeem input's max follows the balance the page shows.
  function syncRedeemMax() {
    const input = document.querySelector("#redeem-form input[name='points']");
    const points = balance();
    if (input && points !== null) input.max = String(Math.max(points, 0));
  }
  document.addEventListener("portal:applied", syncRedeemMax);

  const handlers = {
    async "send-message"(form) {
      const field = form.elements.body;
      const text = field.value.trim();
      if (!text) {
        field.focus();
        return;
      }
      const data = new FormData(form); // before the field is cleared below
      const list = document.getElementById("message-list");
      const template = document.getElementById("pending-message-template");
      const pending = template.content.firstElementChild.cloneNode(true);
      pending.id = `message-pending-${Date.now()}`;
      pending.querySelector("[data-pending-body]").textContent = text;
      list.append(pending);
      pending.scrollIntoView({ block: "nearest" });
      field.value = "";
      const result = await post(form, data);
      if (!result.ok) {
        pending.remove();
        if (!field.value) field.value = text;
        refused(form, "Message not sent", result);
        return;
      }
      // The realtime echo may have rendered the message already; keep exactly one element.
      if (document.getElementById(`message-${result.id}`)) pending.remove();
      else await swapIn(pending, result.html);
    },

    async "mark-read"(form) {
      const row = form.closest(".message");
      const count = document.getElementById("unread-count");
      const before = count?.textContent;
      row?.classList.remove("message--unread");
      form.hidden = true;
      if (count) count.textContent = String(Math.max(0, Number(count.textContent) - 1));
      const result = await post(form);
      if (!result.ok) {
        row?.classList.add("message--unread");
        form.hidden = false;
        if (count && before !== undefined) count.textContent = before;
        showToast({ type: "info", title: "Could not mark as read", message: result.error, error: true });
      }
    },

    async redeem(form) {
      const input = form.elements.points;
      const raw = input.value.trim();
      const points = Number(raw);
      const available = balance();
      // Checked here against the balance the page shows, so the balance never goes negative.
      if (!/^\d+$/.test(raw) || points < 1) {
        showError(form, form.dataset.errorWhole, "points");
        return;
      }
      if (available !== null && points > available) {
        showError(form, form.dataset.errorBalance.replace("{asked}", points).replace("{available}", available), "points");
        return;
      }
      const before = document.getElementById("points-balance")?.textContent;
      setText("points-balance", String(available - points));
      const result = await post(form);
      if (!result.ok) {
        if (before !== undefined) setText("points-balance", before);
        syncRedeemMax();
        refused(form, "Points not redeemed", result);
        return;
      }
      form.reset();
      setText("points-balance", String(result.balance));
      syncRedeemMax();
    },

    async "update-contact"(form) {
      const fields = ["name", "email", "phone", "address"];
      // Only the fields the customer changed show optimistically: the others may be staff's newer values.
      const changed = fields.filter((f) => form.elements[f] && isDirty(form.elements[f]));
      const before = Object.fromEntries(fields.map((f) => [f, document.getElementById(`profile-${f}`)?.textContent]));
      for (const f of changed) setText(`profile-${f}`, form.elements[f].value.trim());
      status(form, "Saving…");
      const result = await post(form);
      if (!result.ok) {
        for (const f of changed) if (before[f] !== undefined) setText(`profile-${f}`, before[f]);
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

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-action]");
    const handler = form && handlers[form.dataset.action];
    if (!handler || !window.fetch) return; // no script support: the form posts normally
    event.preventDefault();
    clearErrors(form);
    const button = form.querySelector('[type="submit"]');
    handler(form)
      .catch((err) => console.error("portal action failed:", err))
      .finally(() => button && (button.disabled = false));
    // Keep the form usable for the next message; double submits are what we block.
    if (button && form.dataset.action !== "send-message") button.disabled = true;
  });

  // --- "Show older" and links to a row ------------------------------------------------------------

  async function loadOlder(control) {
    const button = control.querySelector("button[hx-get]");
    if (!button) return false;
    const response = await fetch(button.getAttribute("hx-get"), { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) return false;
    await window.htmx.swap({ text: await response.text(), swap: "none", sourceElement: document.body, target: document.body });
    return true;
  }

  // A link to a row older than the first page (a toast's "View details" for an old invoice):
  // load older pages until the row is there, then go to it.
  async function revealTarget() {
    const id = decodeURIComponent(location.hash.slice(1));
    if (!/^[a-z]+-\d+$/.test(id) || document.getElementById(id)) return;
    for (let page = 0; page < 50 && !document.getElementById(id); page++) {
      const control = document.querySelector("[data-load-older]");
      if (!control || !(await loadOlder(control))) return;
    }
    if (document.getElementById(id)) location.replace(`#${id}`); // :target and the scroll
  }

  // --- the phone nav: the current page in view ------------------------------------------------------

  function showCurrentNavItem() {
    const nav = document.querySelector(".site-nav");
    const current = nav?.querySelector('[aria-current="page"]');
    if (!nav || !current || nav.scrollWidth <= nav.clientWidth) return;
    const offset = current.getBoundingClientRect().left - nav.getBoundingClientRect().left + nav.scrollLeft;
    nav.scrollLeft = offset - (nav.clientWidth - current.offsetWidth) / 2;
  }

  showCurrentNavItem();
  window.addEventListener("hashchange", () => revealTarget().catch((err) => console.warn("portal:", err)));
  const whenHtmx = () => revealTarget().catch((err) => console.warn("portal:", err));
  if (window.htmx) whenHtmx();
  else document.addEventListener("DOMContentLoaded", whenHtmx, { once: true });
})();

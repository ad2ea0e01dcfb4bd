// Portal page behaviour: toasts (auto-dismiss, pause on hover/focus) and the customer actions
// with optimistic updates. Rows, counters and toasts for changes come from the server (see
// static/realtime/realtime.js); this file only shows the customer's own action at once and
// takes it back if the server refuses.
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
    return { ok: false, error: answer.error || `Something went wrong (HTTP ${response.status}).` };
  }

  function refused(title, message) {
    showToast({ type: "info", title, message, error: true });
  }

  function setText(id, value) {
    const el = document.getElementById(id);
    if (el) el.textContent = value;
  }

  function swapIn(target, html) {
    return window.htmx.swap({ text: html, target, swap: "outerHTML", sourceElement: document.body });
  }

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
        refused("Message not sent", result.error);
        return;
      }
      // The realtime echo may have rendered the message already; keep exactly one element.
      if (document.getElementById(`message-${result.id}`)) pending.remove();
      else await swapIn(pending, result.html);
    },

    async "mark-read"(form) {
      const row = form.closest(".message");
      const count = document.getElementById("unread-count");
      const before = { unread: count?.textContent, html: form.outerHTML };
      row?.classList.remove("message--unread");
      form.hidden = true;
      if (count) count.textContent = String(Math.max(0, Number(count.textContent) - 1));
      const result = await post(form);
      if (!result.ok) {
        row?.classList.add("message--unread");
        form.hidden = false;
        if (count && before.unread !== undefined) count.textContent = before.unread;
        refused("Could not mark as read", result.error);
      }
    },

    async redeem(form) {
      const points = Number(form.elements.points.value);
      const balance = document.getElementById("points-balance");
      const before = balance?.textContent;
      if (!Number.isInteger(points) || points <= 0) {
        refused("Cannot redeem", "Enter a whole number of points.");
        return;
      }
      if (balance) balance.textContent = String(Number(before) - points);
      const result = await post(form);
      if (!result.ok) {
        const now = document.getElementById("points-balance");
        if (now) now.textContent = before;
        refused("Points not redeemed", result.error);
        return;
      }
      form.reset();
      setText("points-balance", String(result.balance));
    },

    async "update-contact"(form) {
      const fields = ["name", "email", "phone", "address"];
      const before = Object.fromEntries(fields.map((f) => [f, document.getElementById(`profile-${f}`)?.textContent]));
      for (const f of fields) setText(`profile-${f}`, form.elements[f].value.trim());
      const status = form.querySelector("[data-form-status]");
      if (status) status.textContent = "Saving…";
      const result = await post(form);
      if (!result.ok) {
        for (const f of fields) if (before[f] !== undefined) setText(`profile-${f}`, before[f]);
        if (status) status.textContent = "";
        refused("Details not saved", result.error);
        return;
      }
      for (const f of fields) setText(`profile-${f}`, result.profile[f]);
      if (status) status.textContent = "Saved.";
    },

    async "update-preferences"(form) {
      const snapshot = [...form.elements].map((el) => [el, el.type === "checkbox" ? el.checked : el.value]);
      const status = form.querySelector("[data-form-status]");
      if (status) status.textContent = "Saving…";
      const result = await post(form);
      if (!result.ok) {
        for (const [el, value] of snapshot) {
          if (el.type === "checkbox") el.checked = value;
          else if (el.name && el.type !== "hidden") el.value = value;
        }
        if (status) status.textContent = "";
        refused("Preferences not saved", result.error);
        return;
      }
      if (status) status.textContent = "Saved.";
    },
  };

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-action]");
    const handler = form && handlers[form.dataset.action];
    if (!handler || !window.fetch) return; // no script support: the form posts normally
    event.preventDefault();
    const button = form.querySelector('[type="submit"]');
    handler(form).finally(() => button && (button.disabled = false));
    // Keep the form usable for the next message; double submits are what we block.
    if (button && form.dataset.action !== "send-message") button.disabled = true;
  });
})();

// @ts-check
// A refused action's message in its form: under its field (with aria-invalid, aria-describedby
// and the focus) or above the buttons (`[data-form-error]`). Typing in the field clears it.

/**
 * @param {HTMLFormElement} form
 * @param {string} field
 * @returns {HTMLElement | null}
 */
function errorSlot(form, field) {
  return (field && form.querySelector(`[data-error-for="${CSS.escape(field)}"]`)) || form.querySelector("[data-form-error]");
}

/**
 * @param {Element} control
 * @param {string} id
 * @param {boolean} on
 */
function describedBy(control, id, on) {
  const ids = new Set((control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean));
  if (on) ids.add(id);
  else ids.delete(id);
  if (ids.size) control.setAttribute("aria-describedby", [...ids].join(" "));
  else control.removeAttribute("aria-describedby");
}

/**
 * @param {HTMLFormElement} form
 * @param {HTMLInputElement | null} control
 */
function clearError(form, control) {
  const slot = control && /** @type {HTMLElement | null} */ (form.querySelector(`[data-error-for="${CSS.escape(control.name)}"]`));
  if (!control || !slot) return;
  slot.hidden = true;
  slot.textContent = "";
  control.removeAttribute("aria-invalid");
  describedBy(control, slot.id, false);
}

/** @param {HTMLFormElement} form */
export function clearErrors(form) {
  for (const control of form.querySelectorAll("[aria-invalid]")) clearError(form, /** @type {HTMLInputElement} */ (control));
  for (const slot of /** @type {NodeListOf<HTMLElement>} */ (form.querySelectorAll("[data-error-for], [data-form-error]"))) {
    slot.hidden = true;
    slot.textContent = "";
  }
}

/**
 * Show `message` under `field` (focusing it), or above the buttons when there is no such field.
 * @param {HTMLFormElement} form
 * @param {string} message
 * @param {string} [field]
 */
export function showError(form, message, field) {
  const control = field ? form.elements.namedItem(field) : null;
  const slot = errorSlot(form, control && field ? field : "");
  if (slot) {
    slot.textContent = message;
    slot.hidden = false;
  }
  if (control instanceof HTMLElement) {
    control.setAttribute("aria-invalid", "true");
    if (slot?.id) describedBy(control, slot.id, true);
    control.focus();
  }
}

/** Typing in a field that shows an error clears it. */
export function clearErrorsOnInput() {
  document.addEventListener("input", (event) => {
    const control = /** @type {HTMLInputElement} */ (event.target);
    if (control.form && control.getAttribute?.("aria-invalid")) clearError(control.form, control);
  });
}

// @ts-check
// Forms that follow live changes without losing an edit. A form with data-merge-live (the
// profile's two) arrives in the live fragments whenever its record changes. It is merged, never
// swapped whole: a field the customer has changed (its value differs from the value it was drawn
// with) or is in keeps what they typed; every other field, and its hidden `initial-<name>` (what
// the server compares with to write only what changed), takes the new value.

/** @typedef {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} Field */

/**
 * The form's own fields: not the CSRF token, the `initial-*` copies, or buttons.
 * @param {HTMLFormElement} form
 * @returns {Field[]}
 */
function fieldsOf(form) {
  return /** @type {Field[]} */ ([...form.elements]).filter(
    (el) => el.name && el.name !== "csrfmiddlewaretoken" && !el.name.startsWith("initial-") && !["submit", "button", "hidden"].includes(el.type)
  );
}

/**
 * @param {Field} el
 * @returns {el is HTMLSelectElement}
 */
function isSelect(el) {
  return el.tagName === "SELECT";
}

/** @param {Field} el */
function isChoice(el) {
  return el.type === "checkbox" || el.type === "radio";
}

/**
 * Whether the customer changed the field from the value it was drawn with.
 * @param {Field} el
 * @returns {boolean}
 */
export function isDirty(el) {
  if (isSelect(el)) return [...el.options].some((option) => option.selected !== option.defaultSelected);
  if (isChoice(el)) return /** @type {HTMLInputElement} */ (el).checked !== /** @type {HTMLInputElement} */ (el).defaultChecked;
  return el.value !== /** @type {HTMLInputElement} */ (el).defaultValue;
}

/**
 * @param {Field} el
 * @param {Field} from
 */
function sameValue(el, from) {
  if (isChoice(el)) return /** @type {HTMLInputElement} */ (el).checked === /** @type {HTMLInputElement} */ (from).defaultChecked;
  return el.value === from.value;
}

/**
 * Take the incoming field's drawn value as this field's value and default.
 * @param {Field} el
 * @param {Field} from
 */
function settle(el, from) {
  if (isSelect(el) && isSelect(from)) {
    const chosen = new Set([...from.options].filter((option) => option.defaultSelected).map((option) => option.value));
    for (const option of el.options) {
      option.defaultSelected = chosen.has(option.value);
      option.selected = chosen.has(option.value);
    }
  } else if (isChoice(el)) {
    const input = /** @type {HTMLInputElement} */ (el);
    input.defaultChecked = /** @type {HTMLInputElement} */ (from).defaultChecked;
    input.checked = input.defaultChecked;
  } else {
    const input = /** @type {HTMLInputElement} */ (el);
    input.defaultValue = /** @type {HTMLInputElement} */ (from).defaultValue;
    input.value = input.defaultValue;
  }
}

/**
 * Merge `incoming` (the same form as the server renders it now) into `form`.
 * @param {HTMLFormElement} form
 * @param {HTMLFormElement} incoming
 */
export function mergeForm(form, incoming) {
  for (const from of fieldsOf(incoming)) {
    const el = form.elements.namedItem(from.name);
    if (!(el instanceof Element)) continue;
    const field = /** @type {Field} */ (el);
    const editing = field === document.activeElement || isDirty(field);
    if (editing && !sameValue(field, from)) continue;
    settle(field, from);
    const original = form.elements.namedItem(`initial-${from.name}`);
    const next = incoming.elements.namedItem(`initial-${from.name}`);
    if (original instanceof Element && next instanceof Element) {
      /** @type {HTMLInputElement} */ (original).value = /** @type {HTMLInputElement} */ (next).value;
    }
  }
}

/**
 * The first form in an HTML string.
 * @param {string} html
 * @returns {HTMLFormElement | null}
 */
export function parseForm(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  return template.content.querySelector("form");
}

/**
 * Back to the values the form was drawn with (the last saved ones): a refused save's rollback.
 * @param {HTMLFormElement} form
 */
export function restore(form) {
  for (const el of fieldsOf(form)) {
    if (isSelect(el)) for (const option of el.options) option.selected = option.defaultSelected;
    else if (isChoice(el)) /** @type {HTMLInputElement} */ (el).checked = /** @type {HTMLInputElement} */ (el).defaultChecked;
    else el.value = /** @type {HTMLInputElement} */ (el).defaultValue;
  }
}

/** Live fragments: merge a data-merge-live form instead of the out-of-band swap htmx would do. */
export function mergeLiveForms() {
  document.addEventListener("htmx:before:swap", (event) => {
    const tasks = /** @type {CustomEvent} */ (event).detail?.tasks;
    if (!Array.isArray(tasks)) return;
    for (let i = tasks.length - 1; i >= 0; i--) {
      const { type, target, fragment } = tasks[i];
      if (type !== "oob" || !(target instanceof HTMLFormElement) || !target.hasAttribute("data-merge-live")) continue;
      const incoming = fragment?.querySelector("form");
      if (incoming) mergeForm(target, incoming);
      tasks.splice(i, 1);
    }
  });
}

// @ts-check
// Redeeming asks first: the form's submit shows what the customer gets for the points
// ("Redeem 150 points for $15.00 off your next appointment?") with "Yes, redeem" and "Cancel";
// only "Yes" posts. The words and the value of a point come from the template
// (`data-confirm-text`, `data-point-cents`); changing the points takes the question away.

/**
 * The question for `points`, from the template's text with {points} and {amount}.
 * @param {string} text e.g. "Redeem {points} points for ${amount} off your next appointment?"
 * @param {number} points
 * @param {number} cents what one point is worth, in cents
 * @returns {string}
 */
export function confirmationText(text, points, cents) {
  const total = points * cents; // whole cents: no floating-point dollars
  const amount = `${Math.floor(total / 100).toLocaleString("en-US")}.${String(total % 100).padStart(2, "0")}`;
  return text.replaceAll("{points}", points.toLocaleString("en-US")).replaceAll("{amount}", amount);
}

/** @param {HTMLFormElement} form */
function panel(form) {
  return /** @type {HTMLElement | null} */ (form.querySelector("[data-redeem-confirm]"));
}

/**
 * Whether the customer already said yes for these points; if not, ask (and post nothing).
 * @param {HTMLFormElement} form
 * @param {number} points
 * @returns {boolean}
 */
export function confirmedRedeem(form, points) {
  const box = panel(form);
  if (!box) return true; // a page without the question: post as before
  const confirmed = form.dataset.confirmed === String(points);
  delete form.dataset.confirmed; // a yes counts for one submit only
  if (confirmed) {
    box.hidden = true;
    return true;
  }
  const question = /** @type {HTMLElement} */ (box.querySelector("[data-confirm-question]"));
  question.textContent = confirmationText(form.dataset.confirmText || "", points, Number(form.dataset.pointCents || 0));
  box.hidden = false;
  /** @type {HTMLElement | null} */ (box.querySelector("[data-confirm-yes]"))?.focus();
  return false;
}

/** Wire "Yes, redeem" and "Cancel"; typing other points takes the question away. */
export function handleRedeemConfirmation() {
  document.addEventListener("click", (event) => {
    const button = /** @type {Element} */ (event.target).closest?.("[data-confirm-yes], [data-confirm-cancel]");
    const form = button?.closest("form");
    const box = form && panel(form);
    if (!button || !form || !box) return;
    const input = /** @type {HTMLInputElement} */ (form.elements.namedItem("points"));
    if (button.matches("[data-confirm-yes]")) {
      form.dataset.confirmed = String(Number(input.value.trim()));
      form.requestSubmit();
    } else {
      box.hidden = true;
      input.focus();
    }
  });
  document.addEventListener("input", (event) => {
    const form = /** @type {HTMLInputElement} */ (event.target).form;
    const box = form && panel(form);
    if (box && !box.hidden) box.hidden = true;
  });
}

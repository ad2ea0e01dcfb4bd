// @ts-check
// The page's counts as an action changes them at once (the live echo then renders the same):
// the points balance and the nav's points, the nav's unread count. The nav's figures keep their
// visually hidden words (" points", " unread") and hide at 0.

/**
 * @param {HTMLElement | null} el
 * @param {number} value
 */
function setNavFigure(el, value) {
  if (el?.firstChild?.nodeType !== Node.TEXT_NODE) return;
  el.firstChild.nodeValue = String(value);
  el.hidden = value === 0;
}

/** @param {string} value the new balance */
export function setPoints(value) {
  const balance = document.getElementById("points-balance");
  if (balance) balance.textContent = value;
  setNavFigure(document.getElementById("nav-points"), Number(value));
}

/**
 * @param {HTMLElement | null} nav `#nav-unread-count`
 * @param {number} value
 */
export function setNavUnread(nav, value) {
  setNavFigure(nav, value);
}

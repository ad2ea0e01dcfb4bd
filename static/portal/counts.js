// @ts-check
// The page's counts as an action changes them at once (the live echo then renders the same):
// the points balance and the nav's points, the unread counts (the page's and the nav's). The nav's figures keep their
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
 * Change the unread counts, the page's (#unread-count) and the nav's (#nav-unread-count), by
 * `delta`, never below 0.
 * @param {number} delta
 * @returns {() => void} puts both back as they were
 */
export function changeUnread(delta) {
  const count = document.getElementById("unread-count");
  const nav = document.getElementById("nav-unread-count");
  const before = count?.textContent;
  const navBefore = nav?.firstChild?.nodeValue;
  if (count && before != null) count.textContent = String(Math.max(0, Number(before) + delta));
  if (navBefore != null) setNavFigure(nav, Math.max(0, Number(navBefore) + delta));
  return () => {
    if (count && before != null) count.textContent = before;
    if (navBefore != null) setNavFigure(nav, Number(navBefore));
  };
}

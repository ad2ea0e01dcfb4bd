// @ts-check
// "Print" buttons ([data-print], the printable invoice's): open the browser's print dialog,
// which also saves as PDF. They are rendered hidden and shown here, so a page without scripts
// shows no button that does nothing (the browser's own Print menu still works).

/**
 * Show every [data-print] button under `root` and make it print.
 * @param {ParentNode} [root]
 * @param {() => void} [print] the browser's print dialog; tests pass their own
 * @returns {number} how many buttons were wired
 */
export function enablePrintButtons(root = document, print = () => window.print()) {
  const buttons = /** @type {NodeListOf<HTMLButtonElement>} */ (root.querySelectorAll("[data-print]"));
  for (const button of buttons) {
    button.hidden = false;
    button.addEventListener("click", () => print());
  }
  return buttons.length;
}

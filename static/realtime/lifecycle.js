// @ts-check
// The browser events a Connection follows: offline and online (reconnect at once, backoff reset),
// leaving the page and coming back from the back/forward cache, and, for the portal's pages, the
// tab being hidden (the socket closes after a while and reconnects when the tab is visible).

/**
 * @param {import("./connection.js").Connection} connection
 * @param {object} env
 * @param {Pick<Window, "addEventListener">} env.window
 * @param {Document} env.document
 * @param {boolean} env.pauseWhenHidden
 */
export function followPageLifecycle(connection, { window, document, pauseWhenHidden }) {
  if (pauseWhenHidden) {
    document.addEventListener("visibilitychange", () => (document.hidden ? connection.hide() : connection.show()));
  }
  window.addEventListener("offline", () => connection.offline());
  window.addEventListener("online", () => connection.wake());
  window.addEventListener("pagehide", () => connection.suspend()); // no reconnect from a page going away
  window.addEventListener("pageshow", (event) => {
    if (/** @type {PageTransitionEvent} */ (event).persisted) connection.wake(); // catch up from the cursor
  });
}

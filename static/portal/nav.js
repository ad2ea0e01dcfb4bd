// @ts-check
// The phone nav scrolls sideways: bring the current page's item into view.

export function showCurrentNavItem() {
  const nav = document.querySelector(".site-nav");
  const current = /** @type {HTMLElement | null | undefined} */ (nav?.querySelector('[aria-current="page"]'));
  if (!nav || !current || nav.scrollWidth <= nav.clientWidth) return;
  const offset = current.getBoundingClientRect().left - nav.getBoundingClientRect().left + nav.scrollLeft;
  nav.scrollLeft = offset - (nav.clientWidth - current.offsetWidth) / 2;
}

"""Presence and typing both ways (docs/components.md, "Presence and typing"): the customer's
admin page shows whether the customer has the portal open and what they type; the portal's
messages page shows when the team is watching and typing."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.data import staff_group
from tests.browser.pages import LATENCIES, log_in_to_admin, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Shorter pauses than a person's, so that "stopped typing" shows within the test's patience.
QUICK = "window.PORTAL_REALTIME_CONFIG = {typingStopMs: 800, typingRefreshMs: 500, typingFadeMs: 4000};"
PRESENCE_TIMEOUT_MS = 5_000  # a socket's close reaches the room, which is announced a few times a second


@pytest.fixture
def alice(make_customer):
    return make_customer("Alice Example", login="alice")


def customer_page(admin_page: Page, customer) -> Page:
    admin_page.context.add_init_script(QUICK)
    admin_page.goto(f"/admin/crm/customer/{customer.pk}/change/")
    return admin_page


def panel(page: Page):
    return page.locator("#portal-presence")


def shows(page: Page, selector: str, text: str) -> None:
    """Wait, checking every frame (expect's polling backs off to 1 s), until `selector` shows `text`."""
    page.wait_for_function(
        "([s, t]) => { const el = document.querySelector(s); return el && !el.hidden && el.textContent.includes(t); }",
        arg=[selector, text],
        polling="raf",
        timeout=PRESENCE_TIMEOUT_MS,
    )


def timed(what: str, started: float) -> None:
    """Report how long since `started` (the run's summary lists it with the other latencies)."""
    LATENCIES.append((what, time.monotonic() - started))


def test_the_admin_panel_goes_online_when_the_customer_opens_the_portal_and_offline_when_they_leave(
    portal, admin_page, alice
):
    staff = customer_page(admin_page, alice)
    expect(panel(staff)).to_have_attribute("data-state", "offline")
    expect(panel(staff)).to_have_text("Portal: the customer is not online")

    page = portal(alice.portal_user, "/portal/messages/")
    expect(panel(staff)).to_have_attribute("data-state", "online", timeout=PRESENCE_TIMEOUT_MS)
    expect(panel(staff)).to_have_text("Portal: Alice Example (active, on Messages) online")
    assert page.evaluate("window.portalRealtime.presence.status()") == "active"

    page.goto("/portal/invoices/")  # a second page of hers: the panel follows
    expect(panel(staff)).to_have_text(
        "Portal: Alice Example (active, on Invoices) online", timeout=PRESENCE_TIMEOUT_MS
    )
    started = time.monotonic()
    page.close()  # she leaves
    shows(staff, "#portal-presence", "not online")
    timed("presence: portal tab closed -> admin panel offline", started)
    expect(panel(staff)).to_have_text("Portal: the customer is not online")


def test_an_idle_tab_shows_as_idle(portal, admin_page, alice):
    staff = customer_page(admin_page, alice)
    page = portal(alice.portal_user, "/portal/messages/")
    expect(panel(staff)).to_contain_text("(active", timeout=PRESENCE_TIMEOUT_MS)
    page.context.add_init_script("window.PORTAL_REALTIME_CONFIG = {idleMs: 1000};")
    page.reload()
    wait_live(page)
    expect(panel(staff)).to_contain_text("Alice Example (idle, on Messages)", timeout=PRESENCE_TIMEOUT_MS)
    page.mouse.move(10, 10)
    page.mouse.move(40, 40)
    expect(panel(staff)).to_contain_text("Alice Example (active, on Messages)", timeout=PRESENCE_TIMEOUT_MS)


def test_our_team_is_online_while_staff_have_the_customers_page_open(portal, admin_page, alice):
    page = portal(alice.portal_user, "/portal/messages/")
    team = page.locator("#team-presence")
    expect(team).to_be_hidden()
    started = time.monotonic()
    staff = customer_page(admin_page, alice)
    shows(page, "#team-presence", "Our team is online")
    timed("presence: admin customer page opened -> 'Our team is online'", started)
    expect(team).to_have_text("Our team is online")
    expect(team).to_have_attribute("title", "Sam Staff")
    staff.goto("/admin/")  # staff move on to another page
    expect(team).to_be_hidden(timeout=PRESENCE_TIMEOUT_MS)


def test_typing_shows_on_both_sides_and_stops(portal, admin_page, alice, screenshot_dir):
    page = portal(alice.portal_user, "/portal/messages/")
    page.context.add_init_script(QUICK)
    page.reload()
    wait_live(page)
    staff = customer_page(admin_page, alice)
    expect(panel(staff)).to_have_attribute("data-state", "online", timeout=PRESENCE_TIMEOUT_MS)

    # The customer types: the admin's panel and its conversation say so, then stop after the pause.
    started = time.monotonic()
    page.locator("#message-form textarea[name='body']").press_sequentially("C")
    shows(staff, "#portal-presence", "Alice Example is typing")
    timed("typing: customer keystroke -> admin indicator", started)
    page.locator("#message-form textarea[name='body']").press_sequentially("ould you come", delay=30)
    admin_typing = staff.locator("#admin-typing")
    expect(admin_typing).to_have_text("Alice Example is typing…")
    staff.evaluate("window.scrollTo(0, 0)")
    staff.screenshot(path=screenshot_dir / "presence-admin-panel.png")
    expect(admin_typing).to_be_hidden(timeout=3_000)
    expect(panel(staff)).to_have_attribute("data-state", "online")

    # Typing again, then sending: the indicator goes at once, not after the pause.
    page.locator("#message-form textarea[name='body']").press_sequentially(" at 9?", delay=30)
    expect(admin_typing).to_be_visible()
    page.locator("#message-form [type='submit']").click()
    expect(admin_typing).to_be_hidden(timeout=700)

    # Staff type a reply in the customer's page: the portal says so, then stops.
    indicator = page.locator("#typing-indicator")
    expect(indicator).to_be_hidden()
    started = time.monotonic()
    staff.locator("textarea[name$='body']:not([name*='__prefix__'])").press_sequentially("Yes, we", delay=30)
    shows(page, "#typing-indicator", "Sam Staff is typing")
    timed("typing: staff keystrokes -> portal indicator", started)
    expect(page.locator("#team-presence")).to_be_visible()
    page.locator("#thread-title").scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "presence-portal-typing.png")
    expect(indicator).to_be_hidden(timeout=3_000)

    # And when staff leave the page mid-sentence, it stops too.
    staff.locator("textarea[name$='body']:not([name*='__prefix__'])").press_sequentially(" can", delay=30)
    expect(indicator).to_be_visible()
    staff.goto("/admin/")
    expect(indicator).to_be_hidden(timeout=PRESENCE_TIMEOUT_MS)


def test_staff_see_colleagues_on_the_same_customer_but_not_themselves(new_page, admin_page, alice, make_user):
    dana = make_user("dana", staff=True, first_name="Dana", last_name="Rivers")
    dana.groups.add(staff_group())
    sam = customer_page(admin_page, alice)
    expect(panel(sam)).to_have_text("Portal: the customer is not online")
    other = customer_page(log_in_to_admin(new_page(), "dana"), alice)
    expect(panel(sam)).to_have_text("Portal: the customer is not online · Also here: Dana Rivers (active)")
    expect(panel(other)).to_have_text("Portal: the customer is not online · Also here: Sam Staff (active)")
    other.goto("/admin/")
    expect(panel(sam)).to_have_text("Portal: the customer is not online", timeout=PRESENCE_TIMEOUT_MS)


HIDE = (
    "Object.defineProperty(document, 'hidden', {get: () => true, configurable: true});"
    "document.dispatchEvent(new Event('visibilitychange'))"
)
SHOW = (
    "Object.defineProperty(document, 'hidden', {get: () => false, configurable: true});"
    "document.dispatchEvent(new Event('visibilitychange'))"
)


def test_a_hidden_tab_is_away_on_both_sides(portal, admin_page, alice):
    """The customer's hidden tab reads as away on the admin page; a hidden admin tab is not
    'watching', so the portal stops saying the team is online."""
    page = portal(alice.portal_user, "/portal/messages/")
    staff = customer_page(admin_page, alice)
    team = page.locator("#team-presence")
    expect(team).to_be_visible(timeout=PRESENCE_TIMEOUT_MS)
    expect(panel(staff)).to_contain_text("(active, on Messages)", timeout=PRESENCE_TIMEOUT_MS)

    page.evaluate(HIDE)
    expect(panel(staff)).to_have_text("Portal: Alice Example (away, on Messages) online")
    page.evaluate(SHOW)
    expect(panel(staff)).to_have_text("Portal: Alice Example (active, on Messages) online")

    staff.evaluate(HIDE)
    expect(team).to_be_hidden()
    staff.evaluate(SHOW)
    expect(team).to_be_visible()

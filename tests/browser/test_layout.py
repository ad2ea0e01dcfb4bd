"""Layout and accessibility of the portal's frame: the header holds still through every
connection state, one announcement per state change, readable colours, "Retry now", rows
linked by #fragment clear of the sticky header, and the phone nav showing the current page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm import services
from tests.browser.data import schedule
from tests.browser.pages import PASSWORD, SocketSwitch, badge, log_in_to_admin, log_in_to_portal, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}
LONG_NAME = "Maximiliana Theodora Featherstonehaugh-Wolfeschlegel"

HEADER_BOXES = """() => [...document.querySelectorAll(
  '.site-header, .brand, .site-nav, .header-status, .header-customer, .logout-form'
)].map((el) => { const r = el.getBoundingClientRect(); return [el.className, r.top, r.left, r.width, r.height]; })"""

# Every text a live region of the page gets, in order (the announcer, and any other).
RECORD_ANNOUNCEMENTS = """() => {
  window.announced = [];
  const regions = document.querySelectorAll(
    '[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"], [role="log"]');
  for (const region of regions) {
    new MutationObserver(() => window.announced.push([region.id, region.textContent.trim()]))
      .observe(region, {childList: true, characterData: true, subtree: true});
  }
  return [...regions].map((region) => region.id);
}"""


def open_with_switch(new_page, user, path: str = "/portal/", **options):
    page = new_page(**options)
    switch = SocketSwitch(page.context)
    log_in_to_portal(page, user.username, PASSWORD, path=path)
    return page, switch


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_header_holds_still_through_every_connection_state(new_page, make_customer, viewport):
    alice = make_customer(LONG_NAME, login="alice")
    services.post_message(customer=alice, body="Unread, so the nav shows its count", author=None)
    page, switch = open_with_switch(new_page, alice.portal_user, **(PHONE if viewport == "phone" else {}))
    live = page.evaluate(HEADER_BOXES)

    switch.down()
    expect(badge(page)).to_have_attribute("data-state", "reconnecting")
    expect(badge(page)).to_contain_text("Reconnecting in")
    expect(badge(page).locator("[data-conn-retry]")).to_be_visible()
    assert page.evaluate(HEADER_BOXES) == live

    page.context.set_offline(True)
    expect(badge(page)).to_have_attribute("data-state", "offline")
    assert page.evaluate(HEADER_BOXES) == live
    if viewport == "desktop":  # one row, the long name cut short with an ellipsis
        header = page.locator(".site-header").bounding_box()
        assert header["height"] < 80, header
        name = page.locator("#header-customer-name")
        assert name.evaluate("el => el.scrollWidth > el.clientWidth")
        expect(name).to_have_attribute("title", LONG_NAME)


def test_one_announcement_per_state_change_and_none_per_tick(new_page, make_customer):
    alice = make_customer("Alice Example", login="alice")
    page, switch = open_with_switch(new_page, alice.portal_user)  # the dashboard: badge and folded status
    regions = page.evaluate(RECORD_ANNOUNCEMENTS)
    assert "realtime-announcer" in regions
    assert page.locator("[data-connection-status][role], [data-connection-status] [aria-live]").count() == 0

    switch.down()
    label = badge(page).locator("[data-conn-label]")
    expect(label).to_contain_text("Reconnecting in")
    first = label.inner_text()
    expect(label).not_to_have_text(first, timeout=5_000)  # the countdown ticked at least once
    assert page.evaluate("window.announced") == [["realtime-announcer", "Connection lost. Reconnecting."]]

    switch.up()
    wait_live(page, timeout=40_000)
    assert page.evaluate("window.announced") == [
        ["realtime-announcer", "Connection lost. Reconnecting."],
        ["realtime-announcer", "Live updates are on."],
    ]


def test_retry_now_reconnects_without_waiting_for_the_backoff(new_page, make_customer):
    alice = make_customer("Alice Example", login="alice")
    page = new_page()
    page.add_init_script("window.PORTAL_REALTIME_CONFIG = {backoffBaseMs: 120000, backoffCapMs: 120000}")
    switch = SocketSwitch(page.context)
    log_in_to_portal(page, alice.portal_user.username, path="/portal/invoices/")

    switch.down()
    expect(badge(page)).to_have_attribute("data-state", "reconnecting")
    retry = badge(page).get_by_role("button", name="Retry now")
    expect(retry).to_be_visible()
    switch.up()
    retry.click()
    wait_live(page, timeout=5_000)  # the backoff alone would wait a minute or more
    expect(retry).to_be_hidden()


def test_connection_badge_text_meets_aa_contrast_in_every_state(new_page, staff_user):
    page = log_in_to_admin(new_page(), staff_user.username)
    page.goto("/portal/components/")
    ratios = page.evaluate(
        """() => {
      const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
      const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
      const background = (el) => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
        if (rgb(c)[3] !== 0 && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; };
      return [...document.querySelectorAll('[data-connection-status] [data-conn-label]')].map((label) => {
        const [a, b] = [lum(rgb(getComputedStyle(label).color)), lum(rgb(background(label)))];
        const root = label.closest('[data-connection-status]');
        return [root.dataset.variant, root.dataset.state, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
      });
    }"""
    )
    assert len(ratios) == 15
    low = [(variant, state, round(ratio, 2)) for variant, state, ratio in ratios if ratio < 4.5]
    assert low == []


def test_a_linked_row_sits_below_the_sticky_header_and_is_marked(new_page, make_customer):
    alice = make_customer("Alice Example", login="alice")
    jobs = [schedule(alice, f"Visit {n}", days=n + 1) for n in range(12)]
    services.cancel_job(job=jobs[3])
    page = log_in_to_portal(new_page(), alice.portal_user.username, path="/portal/appointments/")
    target = jobs[8]
    page.goto(f"/portal/appointments/#job-{target.pk}")
    row = page.locator(f"#job-{target.pk}")
    expect(row).to_be_in_viewport()
    assert row.evaluate("el => el.matches(':target')")
    header_bottom = page.locator(".site-header").bounding_box()["height"]
    assert row.bounding_box()["y"] >= header_bottom, "the row is under the sticky header"
    assert row.evaluate("el => getComputedStyle(el).backgroundColor") != "rgba(0, 0, 0, 0)"
    # Cancelled is muted, not struck through.
    cancelled = page.locator(f"#job-{jobs[3].pk} [data-field='status']")
    expect(cancelled).to_have_text("Cancelled")
    assert cancelled.evaluate("el => getComputedStyle(el).textDecorationLine") == "none"


def test_the_phone_nav_shows_the_current_page(new_page, make_customer):
    alice = make_customer("Alice Example", login="alice")
    services.post_message(customer=alice, body="Unread, so the nav shows its count", author=None)
    page = log_in_to_portal(new_page(**PHONE), alice.portal_user.username, path="/portal/profile/")
    # Nothing in the scrolling nav widens the page.
    assert page.evaluate("[document.documentElement.scrollWidth, innerWidth]") == [390, 390]
    nav = page.locator(".site-nav").bounding_box()
    current = page.locator('.site-nav [aria-current="page"]').bounding_box()
    assert nav["x"] - 1 <= current["x"] and current["x"] + current["width"] <= nav["x"] + nav["width"] + 1

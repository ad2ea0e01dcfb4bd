"""Notified on every page, the way the customer chose (issue 11, items 1, 2 and 6), in Chromium
against daphne, PostgreSQL and Redis."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from crm import services
from crm.models import LoyaltyTransaction, Message
from tests.browser.data import schedule, sent_invoice
from tests.browser.pages import Deadline, toasts, wait_live, watch_for_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice(make_customer):
    return make_customer("Alice Example", login="alice")


def test_a_message_toasts_and_counts_on_the_appointments_page(portal, alice):
    job = schedule(alice)
    page = portal(alice.portal_user, "/portal/appointments/")
    errors = watch_for_errors(page)
    expect(page.locator("#nav-unread-count")).to_be_hidden()

    services.post_message(customer=alice, body="Your technician is running 10 minutes late", author=None)
    deadline = Deadline("message toast and nav count on the appointments page (service call)")
    expect(page.locator("#nav-unread-count")).to_be_visible(timeout=deadline.ms())
    expect(toasts(page, "message")).to_have_count(1, timeout=deadline.ms())
    deadline.done()
    expect(toasts(page, "message")).to_contain_text("Your technician is running 10 minutes late")
    expect(page.locator("#nav-unread-count")).to_be_visible()
    expect(page.locator("#nav-unread-count")).to_contain_text("1")
    services.award_points(customer=alice, points=40, description="Thanks for the review", bonus=True)
    expect(page.locator("#nav-points")).to_contain_text("40")
    assert page.evaluate("portalRealtime.unreadCount") == 1
    assert page.evaluate("portalRealtime.totalPoints") == 40
    # The page's own list still follows its topic; nothing of the others is drawn on it.
    services.change_job_status(job=job, status="confirmed")
    expect(page.locator(f'#job-{job.pk} [data-field="status"]')).to_have_text("Confirmed")
    expect(page.locator(".message, .loyalty-row")).to_have_count(0)
    assert page.locator("body").get_attribute("data-topics") == "jobs requests"
    assert errors == []


def test_muted_loyalty_updates_the_list_without_a_toast(portal, alice):
    services.update_preferences(customer=alice, preferences={"notify_loyalty": False})
    page = portal(alice.portal_user, "/portal/loyalty/")
    award = services.award_points(customer=alice, points=25, description="Thanks for the review", bonus=True)
    expect(page.locator(f"#loyalty-{award.pk}")).to_be_visible()
    expect(page.locator("#points-balance")).to_have_text("25")
    expect(page.locator("#nav-points")).to_contain_text("25")
    # A message is not muted: once its toast is here, the award's batch was long applied.
    services.post_message(customer=alice, body="Thanks again!", author=None)
    expect(toasts(page, "message")).to_have_count(1)
    expect(toasts(page, "loyalty")).to_have_count(0)
    expect(toasts(page)).to_have_count(1)


def test_a_preference_saved_in_one_tab_holds_at_once_in_the_others(portal, alice):
    settings_tab = portal(alice.portal_user, "/portal/profile/")
    watching = portal(alice.portal_user, "/portal/appointments/")
    other_profile = watching.context.new_page()
    other_profile.goto("/portal/profile/")
    wait_live(other_profile)

    form = settings_tab.locator("#preferences-form")
    form.locator('input[name="notify_loyalty"]').uncheck()
    form.locator('[type="submit"]').click()
    expect(form.locator("[data-form-status]")).not_to_have_text("Saving…")
    expect(form.locator("[data-form-status]")).not_to_be_empty()
    # The change is itself a live event: the other tab's form follows it.
    expect(other_profile.locator('#preferences-form input[name="notify_loyalty"]')).not_to_be_checked()

    services.award_points(customer=alice, points=30, description="Muted thanks", bonus=True)
    expect(watching.locator("#nav-points")).to_contain_text("30")
    services.post_message(customer=alice, body="Fence", author=None)
    expect(toasts(watching, "message")).to_have_count(1)
    expect(toasts(watching, "loyalty")).to_have_count(0)

    form.locator('input[name="notify_loyalty"]').check()
    form.locator('[type="submit"]').click()
    expect(other_profile.locator('#preferences-form input[name="notify_loyalty"]')).to_be_checked()
    services.award_points(customer=alice, points=5, description="Heard again", bonus=True)
    expect(toasts(watching, "loyalty")).to_have_count(1)
    expect(toasts(watching, "loyalty")).to_contain_text("+5 bonus points!")


def test_a_newer_toast_about_the_same_appointment_replaces_the_older(portal, alice):
    job = schedule(alice, "Rug cleaning", days=3, hour=9)  # not at any hour it is moved to below
    other = schedule(alice, "Sofa cleaning", days=4)
    page = portal(alice.portal_user, "/portal/appointments/")
    day = job.scheduled_start.replace(hour=0)
    for hour in (14, 16, 13):
        start = day + dt.timedelta(hours=hour)
        services.reschedule_job(job=job, start=start, end=start + dt.timedelta(hours=2))
        expect(toasts(page, "job")).to_contain_text(f"{hour}:00")  # its own batch, its own toast
        expect(toasts(page, "job")).to_have_count(1)
    expect(toasts(page, "job")).to_contain_text("Rug cleaning moved to")
    # Another appointment's toast stands beside it.
    services.change_job_status(job=other, status="confirmed")
    expect(toasts(page, "job")).to_have_count(2)
    expect(toasts(page, "job").first).to_contain_text("13:00")


def test_redeeming_asks_first_says_what_it_gives_and_confirms(portal, alice):
    services.award_points(customer=alice, points=150, description="Welcome bonus", bonus=True)
    page = portal(alice.portal_user, "/portal/loyalty/")
    form = page.locator("#redeem-form")
    question = form.locator("[data-redeem-confirm]")
    form.locator('input[name="points"]').fill("150")
    form.locator('[type="submit"]').click()
    expect(question).to_be_visible()
    expect(question).to_contain_text("Redeem 150 points for $15.00 off your next appointment?")
    expect(form.locator("[data-confirm-yes]")).to_be_focused()
    form.locator("[data-confirm-cancel]").click()
    expect(question).to_be_hidden()
    expect(page.locator("#points-balance")).to_have_text("150")
    assert not LoyaltyTransaction.objects.filter(kind="redeemed").exists()

    form.locator('[type="submit"]').click()
    form.locator("[data-confirm-yes]").click()
    expect(form.locator("[data-form-status]")).to_have_text(
        "Done: $15.00 off your next appointment for 150 points. You have 0 points left."
    )
    expect(question).to_be_hidden()
    expect(page.locator("#points-balance")).to_have_text("0")
    expect(page.locator("#nav-points")).to_be_hidden()  # no "0" pill in the nav
    expect(page.locator("#loyalty-list")).to_contain_text("$15.00 off your next appointment")
    assert LoyaltyTransaction.objects.filter(kind="redeemed").count() == 1


def test_a_blank_message_gets_an_inline_hint(portal, alice):
    page = portal(alice.portal_user, "/portal/messages/")
    form = page.locator("#message-form")
    body = form.locator('textarea[name="body"]')
    body.fill("   ")
    form.locator('[type="submit"]').click()
    hint = form.locator('[data-error-for="body"]')
    expect(hint).to_be_visible()
    expect(hint).to_have_text("Write your message first: it is empty.")
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(body).to_be_focused()
    expect(page.locator("#message-list > .message")).to_have_count(0)
    body.fill("Hello")
    expect(hint).to_be_hidden()
    assert not Message.objects.exists()


def test_another_customer_never_sees_any_of_it(portal, alice, make_customer):
    bob = make_customer("Bob Example", login="bob")
    alice_page = portal(alice.portal_user, "/portal/appointments/")
    bob_page = portal(bob.portal_user, "/portal/appointments/")

    services.post_message(customer=alice, body="Only for Alice", author=None)
    services.award_points(customer=alice, points=70, description="Alice's bonus", bonus=True)
    sent_invoice(alice, "99.00")
    expect(alice_page.locator("#nav-points")).to_contain_text("70")
    expect(alice_page.locator("#nav-unread-count")).to_contain_text("1")

    services.post_message(customer=bob, body="Only for Bob", author=None)  # Bob's fence
    expect(toasts(bob_page, "message")).to_contain_text("Only for Bob")
    expect(toasts(bob_page)).to_have_count(1)
    expect(bob_page.locator("#nav-points")).to_contain_text("0")
    expect(bob_page.locator("#nav-points")).to_be_hidden()
    expect(bob_page.locator("#nav-unread-count")).to_contain_text("1")
    expect(bob_page.locator("body")).not_to_contain_text("Alice")


PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True}
NAV_PAGES = (
    ("Overview", "/portal/"),
    ("Appointments", "/portal/appointments/"),
    ("Invoices", "/portal/invoices/"),
    ("Messages", "/portal/messages/"),
    ("Loyalty", "/portal/loyalty/"),
    ("Profile", "/portal/profile/"),
)
NO_SIDEWAYS = "[document.documentElement.scrollWidth, innerWidth]"


@pytest.mark.parametrize("width", [360, 375])
def test_every_page_is_one_tap_away_on_a_phone_without_sideways_scrolling(portal, alice, width):
    services.post_message(customer=alice, body="Unread, so the tab shows its count", author=None)
    services.award_points(customer=alice, points=1250, description="Welcome", bonus=True)
    sent_invoice(alice, "1234.50")
    page = portal(alice.portal_user, **{**PHONE, "viewport": {"width": width, "height": 812}})
    nav = page.get_by_role("navigation", name="Portal")
    cut = page.evaluate(
        "[...document.querySelectorAll('.site-nav .nav-short')]"
        ".filter((el) => el.scrollWidth > el.clientWidth).map((el) => el.textContent)"
    )
    assert cut == [], f"tab labels cut short at {width} px: {cut}"
    for name, path in NAV_PAGES:
        link = nav.get_by_role("link", name=name)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
        assert box["y"] + box["height"] <= 812, f"{name} is below the screen: {box}"
        link.click()
        page.wait_for_url(f"**{path}")
        wait_live(page)
        expect(nav.get_by_role("link", name=name)).to_have_attribute("aria-current", "page")
        assert page.evaluate(NO_SIDEWAYS) == [width, width], path
    # The counts ride on the tabs, and the tab bar never covers the page's last words.
    expect(page.locator("#nav-unread-count")).to_be_visible()
    expect(page.locator("#nav-points")).to_have_text("1250 points")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    footer = page.locator(".site-footer").bounding_box()
    assert footer["y"] + footer["height"] <= page.locator(".site-nav").bounding_box()["y"] + 1


def test_marking_read_moves_the_nav_count_at_once(portal, alice):
    services.post_message(customer=alice, body="Please confirm", author=None)
    page = portal(alice.portal_user, "/portal/messages/")
    page.route("**/portal/live/", lambda route: None)  # no echo: what follows is the page's own
    expect(page.locator("#nav-unread-count")).to_contain_text("1")
    page.locator(".mark-read").click()
    expect(page.locator("#nav-unread-count")).to_be_hidden()
    expect(page.locator("#nav-unread-count")).to_have_text("0 unread")

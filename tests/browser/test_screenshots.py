"""Screenshots of the portal and of every component state, checked as they are taken.

With SAVE_SCREENSHOTS=1 they go to docs/img/ (what docs/components.md shows); otherwise to a
temporary directory, so an ordinary run leaves the tree clean.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from playwright.sync_api import Page, expect

from crm import services
from crm.models import Customer, Job
from tests.browser.data import schedule, sent_invoice, staff_group
from tests.browser.pages import badge, log_in_to_admin, log_in_to_portal, toasts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}
PAGES = ("appointments", "invoices", "messages", "loyalty", "profile")
VARIANTS = ("default", "compact", "badge")
STATES = ("connecting", "live", "reconnecting", "offline", "error")


def watch_for_errors(page: Page) -> list[str]:
    """Collect uncaught script errors and console errors: a screenshot of a broken page is no proof."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and errors.append(f"console: {message.text}"))
    return errors


def test_seeded_portal_pages(new_page, screenshot_dir):
    staff_group()  # seed_demo puts its staff login in it
    call_command("seed_demo", stdout=io.StringIO())
    alice = Customer.objects.get(portal_user__username="alice")

    page = new_page()
    errors = watch_for_errors(page)
    log_in_to_portal(page, "alice", "alice-demo")
    expect(page.locator("#subscription-status")).to_contain_text("5/5 active")
    expect(page.locator("#points-balance")).to_have_text(str(alice.points_balance))
    expect(page.locator(".toast")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "dashboard.png", full_page=True)
    for name in PAGES:
        page.goto(f"/portal/{name}/")
        expect(badge(page)).to_have_attribute("data-state", "live")
        page.screenshot(path=screenshot_dir / f"{name}.png", full_page=True)

    phone = new_page(**PHONE)
    errors += watch_for_errors(phone)
    log_in_to_portal(phone, "alice", "alice-demo")
    phone.screenshot(path=screenshot_dir / "dashboard-phone.png", full_page=True)
    phone.goto("/portal/messages/")
    expect(badge(phone)).to_have_attribute("data-state", "live")
    phone.screenshot(path=screenshot_dir / "messages-phone.png", full_page=True)

    login = new_page()
    login.goto("/portal/login/")
    login.screenshot(path=screenshot_dir / "login.png")
    assert errors == []


def test_a_toast_of_each_type(portal, make_customer, screenshot_dir):
    alice = make_customer("Alice Example", login="alice", address="12 Elm Street, Springfield")
    job = schedule(alice)
    second_job = schedule(alice, "Upholstery cleaning", days=4)
    invoice = sent_invoice(alice, "180.00", job=job)
    page = portal(alice.portal_user)

    def shoot(kind: str, title: str) -> None:
        toast = toasts(page, kind)
        expect(toast).to_have_count(1)
        expect(toast.locator("[data-toast-title]")).to_have_text(title)
        toast.hover()  # pauses auto-dismiss while the picture is taken
        toast.screenshot(path=screenshot_dir / f"toast-{kind}.png")
        toast.locator(".toast-dismiss").click()
        expect(toast).to_have_count(0)

    services.change_job_status(job=job, status=Job.Status.CONFIRMED)
    shoot("job", "Appointment confirmed")
    services.mark_invoice_paid(invoice=invoice)
    shoot("invoice", "Payment received")
    services.post_message(
        customer=alice, body="Dana is on the way and will arrive in 15 minutes.", author=None
    )
    shoot("message", "New message")
    services.award_points(customer=alice, points=25, bonus=True, description="Thanks for the review")
    shoot("loyalty", "+25 bonus points!")
    with transaction.atomic():  # arrives as one batch: a burst collapses into one toast
        services.change_job_status(job=second_job, status=Job.Status.CONFIRMED)
        services.post_message(customer=alice, body="See you on Thursday.", author=None)
    shoot("info", "2 updates")
    page.screenshot(path=screenshot_dir / "dashboard-live.png", full_page=True)


def test_connection_states_reached_live(new_page, portal, make_customer, screenshot_dir):
    alice = make_customer("Alice Example", login="alice")
    page = portal(alice.portal_user)
    header = page.locator(".site-header")

    page.context.set_offline(True)
    expect(badge(page)).to_have_attribute("data-state", "offline")
    header.screenshot(path=screenshot_dir / "header-offline.png")
    badge(page).screenshot(path=screenshot_dir / "badge-offline.png")
    page.context.set_offline(False)
    expect(badge(page)).to_have_attribute("data-state", "live")
    header.screenshot(path=screenshot_dir / "header-live.png")
    page.locator("#subscription-status").screenshot(path=screenshot_dir / "subscriptions-live.png")

    # Access lost (the login moved off the customer): the server closes with 4403, no retry.
    alice.portal_user = None
    alice.save(update_fields=["portal_user", "updated_at"])
    expect(badge(page)).to_have_attribute("data-state", "error")
    badge(page).screenshot(path=screenshot_dir / "badge-error.png")
    assert page.evaluate("window.portalRealtime.isConnected") is False

    # A socket that opens but never says hello stays "connecting".
    bob = make_customer("Bob Example", login="bob")
    waiting = new_page()
    waiting.context.route_web_socket("**/ws/realtime/**", lambda socket: None)
    waiting.goto("/portal/login/")
    waiting.locator('input[name="username"]').fill("bob")
    waiting.locator('input[name="password"]').fill("pw-for-tests")
    waiting.locator('form:has(input[name="password"]) [type="submit"]').click()
    expect(waiting.locator("#header-customer-name")).to_have_text(bob.name)
    expect(badge(waiting)).to_have_attribute("data-state", "connecting")
    badge(waiting).screenshot(path=screenshot_dir / "badge-connecting.png")


def test_component_gallery(new_page, staff_user, screenshot_dir):
    """Every variant in every state, as the template tags render them (static, no socket)."""
    page = log_in_to_admin(new_page(), staff_user.username)
    page.goto("/portal/components/")
    for variant in VARIANTS:
        for state in STATES:
            cell = page.locator(f"#demo-conn-{variant}-{state} [data-connection-status]")
            expect(cell).to_have_attribute("data-state", state)
            cell.screenshot(path=screenshot_dir / f"connection-{variant}-{state}.png")
    for kind in ("job", "invoice", "message", "loyalty", "info"):
        expect(page.locator(f"#demo-toast-{kind} .toast")).to_have_attribute("data-toast-type", kind)
    for name in ("all", "mixed", "page"):
        page.locator(f"#demo-subs-{name}").screenshot(path=screenshot_dir / f"subscriptions-{name}.png")
    expect(page.locator("#demo-subs-mixed")).to_contain_text("3/5 active")
    page.screenshot(path=screenshot_dir / "components.png", full_page=True)

"""Screenshots of the portal and of every component state, checked as they are taken.

With SAVE_SCREENSHOTS=1 they go to docs/img/ under exactly the names docs/components.md shows
(`page-*`, `connection-status-*`, `toast-*`, `multi-subscription-status-*`, `invoice-print`); otherwise to a
temporary directory, so an ordinary run leaves the tree clean. `test_every_documented_image_is_made_here`
keeps the two lists equal.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db import transaction
from playwright.sync_api import expect

from crm import services
from crm.models import Customer, Job
from tests.browser.data import schedule, sent_invoice, staff_group
from tests.browser.pages import badge, log_in_to_admin, log_in_to_portal, toasts, watch_for_errors
from tests.browser.test_staff_inbox import IMAGES as STAFF_IMAGES
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}
A4_AT_96_DPI = {"width": 794, "height": 1123}
PAGES = ("appointments", "invoices", "messages", "loyalty", "profile")
VARIANTS = ("default", "compact", "badge")
STATES = ("connecting", "live", "reconnecting", "offline", "error")
TOAST_KINDS = ("job", "invoice", "message", "loyalty", "info", "error")
SUBSCRIPTION_DEMOS = ("all", "mixed", "page", "compact")

# Every image this module writes: the names docs/components.md references.
IMAGES = {
    "page-dashboard.png",
    "page-dashboard-phone.png",
    *(f"page-{name}.png" for name in PAGES),
    *(f"page-{name}-phone.png" for name in PAGES),
    *(f"connection-status-{variant}-{state}.png" for variant in VARIANTS for state in STATES),
    *(f"toast-{kind}.png" for kind in TOAST_KINDS),
    *(f"multi-subscription-status-{name}.png" for name in SUBSCRIPTION_DEMOS),
    "invoice-print.png",
    # taken by tests/browser/test_presence.py, where presence and typing are tested
    "presence-admin-panel.png",
    "presence-portal-typing.png",
}


def test_every_documented_image_is_made_here():
    documented = set(re.findall(r"img/([\w.-]+\.png)", (ROOT / "docs" / "components.md").read_text()))
    assert documented == IMAGES | STAFF_IMAGES


def test_seeded_portal_pages(new_page, screenshot_dir):
    staff_group()  # seed_demo puts its staff login in it
    call_command("seed_demo", stdout=io.StringIO())
    alice = Customer.objects.get(portal_user__username="alice")

    page = new_page()
    errors = watch_for_errors(page)
    log_in_to_portal(page, "alice", "alice-demo")
    expect(page.locator("#subscription-status")).to_contain_text("6/6 active")
    expect(page.locator("#points-balance")).to_have_text(str(alice.points_balance))
    expect(page.locator("#greeting-name")).to_have_text("Alice Example")
    expect(page.locator(".toast")).to_have_count(0)
    # One header row at 1280 px with the unread count, the points and the bell's count all shown.
    expect(page.locator("#updates-bell .updates-bell-count")).to_be_visible()
    assert page.locator(".site-header").bounding_box()["height"] < 80
    page.screenshot(path=screenshot_dir / "page-dashboard.png", full_page=True)
    for name in PAGES:
        page.goto(f"/portal/{name}/")
        expect(badge(page)).to_have_attribute("data-state", "live")
        page.screenshot(path=screenshot_dir / f"page-{name}.png", full_page=True)

    phone = new_page(**PHONE)
    errors += watch_for_errors(phone)
    log_in_to_portal(phone, "alice", "alice-demo")
    phone.screenshot(path=screenshot_dir / "page-dashboard-phone.png")  # the first screen
    assert phone.evaluate("[document.documentElement.scrollWidth, innerWidth]") == [390, 390]
    for name in PAGES:
        phone.goto(f"/portal/{name}/")
        expect(badge(phone)).to_have_attribute("data-state", "live")
        phone.screenshot(path=screenshot_dir / f"page-{name}-phone.png")
        assert phone.evaluate("[document.documentElement.scrollWidth, innerWidth]") == [390, 390], name
    # At 1280 px an invoice number never breaks in the middle (the dashboard's narrow card).
    page.goto("/portal/")
    for number in page.locator("#invoice-list .row-title .nowrap").all():
        assert number.evaluate("el => el.getClientRects().length") == 1
        assert number.bounding_box()["height"] < 30
    assert errors == []


def test_a_toast_of_each_type(portal, make_customer, screenshot_dir):
    alice = make_customer("Alice Example", login="alice", address="12 Elm Street, Springfield")
    job = schedule(alice)
    second_job = schedule(alice, "Upholstery cleaning", days=4)
    invoice = sent_invoice(alice, "180.00", job=job)
    page = portal(alice.portal_user)

    def shoot(kind: str, title: str, selector: str | None = None, name: str | None = None) -> None:
        toast = page.locator(selector) if selector else toasts(page, kind)
        expect(toast).to_have_count(1)
        expect(toast.locator("[data-toast-title]")).to_have_text(title)
        toast.hover()  # pauses auto-dismiss while the picture is taken
        toast.screenshot(path=screenshot_dir / f"toast-{name or kind}.png")
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

    # A refused action: the page still shows 125 points when staff have taken 100 away.
    services.award_points(customer=alice, points=100, description="Spring offer")
    page.goto("/portal/loyalty/")
    expect(page.locator("#points-balance")).to_have_text("125")
    expect(badge(page)).to_have_attribute("data-state", "live")
    page.route("**/portal/live/", lambda route: None)
    services.adjust_points(customer=alice, points=-100, description="Correction")
    page.locator('#redeem-form input[name="points"]').fill("100")
    page.locator('#redeem-form [type="submit"]').click()
    page.locator("#redeem-form [data-confirm-yes]").click()  # redeeming asks first
    shoot("info", "Points not redeemed", "#toasts .toast[data-toast-error]", name="error")


def test_connection_states_reached_live(new_page, portal, make_customer):
    alice = make_customer("Alice Example", login="alice")
    page = portal(alice.portal_user)

    page.context.set_offline(True)
    expect(badge(page)).to_have_attribute("data-state", "offline")
    expect(badge(page).locator("[data-conn-retry]")).to_be_visible()
    page.context.set_offline(False)
    expect(badge(page)).to_have_attribute("data-state", "live")
    expect(badge(page).locator("[data-conn-retry]")).to_be_hidden()

    # Access lost (the login moved off the customer): the server closes with 4403, no retry.
    alice.portal_user = None
    alice.save(update_fields=["portal_user", "updated_at"])
    expect(badge(page)).to_have_attribute("data-state", "error")
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


def test_component_gallery(new_page, staff_user, screenshot_dir):
    """Every variant in every state, as the template tags render them (static, no socket)."""
    page = log_in_to_admin(new_page(), staff_user.username)
    errors = watch_for_errors(page)
    page.goto("/portal/components/")
    for variant in VARIANTS:
        for state in STATES:
            cell = page.locator(f"#demo-conn-{variant}-{state} [data-connection-status]")
            expect(cell).to_have_attribute("data-state", state)
            cell.screenshot(path=screenshot_dir / f"connection-status-{variant}-{state}.png")
    for kind in ("job", "invoice", "message", "loyalty", "info"):
        expect(page.locator(f"#demo-toast-{kind} .toast")).to_have_attribute("data-toast-type", kind)
    # One shared socket: the page's topics live, one added by a script still connecting.
    expect(page.locator("#demo-subs-mixed")).to_contain_text("2/6 active")
    expect(page.locator('#demo-subs-mixed [data-topic="messages"]')).to_have_attribute(
        "data-state", "connecting"
    )
    compact = page.locator("#demo-subs-compact details")
    expect(compact).to_contain_text("6/6 active")
    expect(compact.locator(".subs-list")).to_be_hidden()  # folded until opened
    compact.locator("summary").click()
    expect(compact.locator(".subs-list")).to_be_visible()
    for name in SUBSCRIPTION_DEMOS:
        page.locator(f"#demo-subs-{name}").screenshot(
            path=screenshot_dir / f"multi-subscription-status-{name}.png"
        )
    assert errors == []


def pdf_pages(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")


def test_a_printable_invoice(portal, make_customer, screenshot_dir):
    """From the invoice row to its page; "Print" opens the print dialog; printed, the page is the
    document alone, on one sheet of A4 or Letter."""
    alice = make_customer("Alice Example", login="alice", address="12 Elm Street\nSpringfield, IL 62704")
    job = services.complete_job(job=schedule(alice, days=-3))
    invoice = sent_invoice(alice, "180.00", job=job)
    page = portal(alice.portal_user, "/portal/invoices/")
    errors = watch_for_errors(page)
    page.locator(f'#invoice-{invoice.pk} a[data-link="document"]').click()
    page.wait_for_url(f"**/portal/invoices/{invoice.pk}/")
    expect(page.locator('#invoice-document [data-field="amount-due"]')).to_have_text("$180.00")
    expect(page.locator('#invoice-document [data-field="status"]')).to_have_text("Sent")

    print_button = page.locator("[data-print]")
    expect(print_button).to_be_visible()  # shown by static/portal/print.js
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    print_button.click()
    assert page.evaluate("window.printed") == 1
    page.evaluate("() => window.portalToasts.show({title: 'Not on paper'})")
    toast = toasts(page).first
    toast.hover()  # keeps it from dismissing itself
    expect(toast).to_be_visible()

    page.set_viewport_size(A4_AT_96_DPI)
    page.emulate_media(media="print")
    for chrome in (".site-header", ".site-nav", "#toasts .toast", "[data-print]", ".document-tools"):
        expect(page.locator(chrome)).to_be_hidden()
    expect(page.locator("#invoice-document")).to_be_visible()
    page.screenshot(path=screenshot_dir / "invoice-print.png", full_page=True)
    for paper in ("A4", "Letter"):
        assert pdf_pages(page.pdf(format=paper, print_background=True)) == 1, paper
    assert errors == []

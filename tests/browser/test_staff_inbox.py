"""The staff inbox and the admin following customers live (issue 12, items 1, 2 and 4), in
Chromium against daphne: what a customer does in the portal reaches open admin pages without a
reload, and staff answers reach the customer's page the same way."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from crm import services
from crm.models import AppointmentRequest, Customer, InboxItem, Job
from tests.browser.data import schedule, staff_group
from tests.browser.pages import Deadline, log_in_to_admin, toasts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The images this module writes for docs/components.md (with SAVE_SCREENSHOTS=1).
IMAGES = {"request-form.png", "request-accepted.png", "staff-inbox.png", "admin-customer-changed.png"}


@pytest.fixture
def alice(make_customer):
    return make_customer("Alice Example", login="alice", phone="555-0100", address="1 Main St")


def open_admin(page: Page, path: str) -> Page:
    page.goto(path)
    expect(page.locator("#staff-inbox-link")).to_have_attribute("data-live", "open")
    return page


def open_count(page: Page):
    return page.locator("#staff-inbox-link .staff-inbox-count")


def test_a_customer_message_appears_in_the_open_inbox_without_a_reload(portal, admin_page, alice):
    inbox = open_admin(admin_page, "/admin/inbox/")
    expect(open_count(inbox)).to_have_text("0")
    page = portal(alice.portal_user, "/portal/messages/")

    page.locator("#message-form textarea").fill("Could you bring the stain remover?")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.locator("#message-form button[type=submit]").click()
    assert posted.value.status == 200
    deadline = Deadline("customer message to the staff inbox")

    row = inbox.locator("#staff-inbox-list .staff-inbox-item")
    expect(row).to_have_count(1, timeout=deadline.ms())
    expect(row).to_contain_text("Alice Example sent a message")
    deadline.done()
    expect(row).to_contain_text("Could you bring the stain remover?")
    expect(open_count(inbox)).to_have_text("1")
    expect(inbox.locator("#staff-toasts li.info")).to_contain_text("Alice Example sent a message")
    expect(inbox.locator("#staff-toasts li a")).to_have_attribute(
        "href", f"/admin/inbox/#{row.get_attribute('id')}"
    )

    # Reply inline: the customer gets it, and the item is answered.
    row.locator("textarea[name=body]").fill("Yes, we will!")
    row.locator(".staff-inbox-reply [type=submit]").click()
    expect(row).to_have_count(0)
    expect(open_count(inbox)).to_have_text("0")
    expect(page.locator("#message-list")).to_contain_text("Yes, we will!")


def test_a_reschedule_request_accepted_by_staff_moves_the_customers_appointment_live(
    portal, admin_page, alice, screenshot_dir
):
    job = schedule(alice, days=2)
    inbox = open_admin(admin_page, "/admin/inbox/")
    page = portal(alice.portal_user, "/portal/appointments/")
    wanted = (timezone.localtime(job.scheduled_start) + dt.timedelta(days=3)).replace(hour=9, minute=30)

    row = page.locator(f"#job-{job.pk}")
    row.locator("summary", has_text="Ask to move or cancel").click()
    row.locator("input[name=preferred_1]").fill(wanted.strftime("%Y-%m-%dT%H:%M"))
    row.locator("textarea[name=note]").fill("Mornings suit me better")
    page.screenshot(path=str(screenshot_dir / "request-form.png"))
    row.locator("button", has_text="Send request").click()
    state = page.locator(f"#job-{job.pk} [data-field=request]")
    expect(state).to_contain_text("Waiting for an answer")

    item = inbox.locator("#staff-inbox-list .staff-inbox-item.kind-request")
    expect(item).to_contain_text("Alice Example asks to move Carpet cleaning")
    expect(item).to_contain_text("Mornings suit me better")
    inbox.screenshot(path=str(screenshot_dir / "staff-inbox.png"))
    with inbox.expect_response(lambda response: response.request.method == "POST") as posted:
        item.locator("[data-inbox-action=accept] [type=submit]").click()
    assert posted.value.status == 200, posted.value.text()
    deadline = Deadline("request accepted to the customer's appointments page")

    expect(state).to_contain_text("Accepted", timeout=deadline.ms())
    moved = f"We've moved your appointment to {wanted:%a} {wanted.day} {wanted:%b, %H:%M}"
    expect(toasts(page, "job")).to_contain_text(moved, timeout=deadline.ms())
    deadline.done()
    expect(page.locator(f"#job-{job.pk} [data-field=scheduled-start]")).to_have_attribute(
        "datetime", wanted.isoformat()
    )
    page.screenshot(path=str(screenshot_dir / "request-accepted.png"))
    job.refresh_from_db()
    assert job.scheduled_start == wanted
    assert AppointmentRequest.objects.get(job=job).status == "accepted"
    expect(item).to_have_count(0)


def test_two_staff_members_see_handled_at_once(new_page, admin_page, alice, make_user):
    for body in ("First question", "Second question"):
        services.customer_message(customer=alice, body=body, author=alice.portal_user)
    dana = make_user("dana", staff=True, first_name="Dana")
    dana.groups.add(staff_group())
    sams = open_admin(admin_page, "/admin/inbox/")
    danas = open_admin(log_in_to_admin(new_page(), "dana"), "/admin/inbox/")
    first = InboxItem.objects.get(text="First question")
    for inbox in (sams, danas):
        expect(inbox.locator(".staff-inbox-item")).to_have_count(2)
        expect(open_count(inbox)).to_have_text("2")

    with sams.expect_response(lambda response: response.request.method == "POST"):
        sams.locator(f"#inbox-item-{first.pk} [data-inbox-action=handle] [type=submit]").click()
    deadline = Deadline("handled by one staff member, gone for the other")
    expect(danas.locator(f"#inbox-item-{first.pk}")).to_have_count(0, timeout=deadline.ms())
    expect(open_count(danas)).to_have_text("1", timeout=deadline.ms())
    deadline.done()
    expect(sams.locator(f"#inbox-item-{first.pk}")).to_have_count(0)
    first.refresh_from_db()
    assert first.handled_by.username == "sam"

    # Too late for Dana's stale page: her click is refused with who did it, nothing changes.
    danas.goto("/admin/inbox/?handled=1")
    expect(danas.locator(f"#inbox-item-{first.pk}")).to_contain_text("Handled")
    expect(danas.locator(f"#inbox-item-{first.pk}")).to_contain_text("by sam")


def test_an_open_change_form_says_the_customer_changed_it_and_a_stale_save_is_refused(
    admin_page, alice, screenshot_dir
):
    form = open_admin(admin_page, f"/admin/crm/customer/{alice.pk}/change/")
    list_page = admin_page.context.new_page()
    open_admin(list_page, "/admin/crm/customer/")

    services.customer_contact_change(customer=Customer.objects.get(pk=alice.pk), phone="555-0199")
    deadline = Deadline("portal contact change to the open change form")
    notice = form.locator(".staff-notice li.warning")
    expect(notice).to_contain_text("Alice Example changed their phone number — reload", timeout=deadline.ms())
    deadline.done()
    expect(form.locator("#staff-inbox-link .staff-inbox-count")).to_have_text("1")
    form.screenshot(path=str(screenshot_dir / "admin-customer-changed.png"))
    expect(list_page.locator(".staff-notice")).to_contain_text("Alice Example changed their phone number")

    form.locator("#id_phone").fill("555-0000")
    form.locator('input[name="_save"]').click()
    expect(form.locator(".errorlist")).to_contain_text("changed to “555-0199” by someone else")
    assert Customer.objects.get(pk=alice.pk).phone == "555-0199"


def test_a_staff_user_without_view_customer_gets_nothing_live(new_page, make_user, alice):
    clerk = make_user("clerk", staff=True, perms=["crm.view_job"])
    assert not clerk.has_perm("crm.view_customer")
    page = log_in_to_admin(new_page(), "clerk")
    expect(page.locator("#user-tools")).to_be_visible()
    expect(page.locator("#staff-inbox-link")).to_have_count(0)
    expect(page.locator("#staff-inbox-module")).to_have_count(0)
    response = page.goto("/admin/inbox/")
    assert response is not None and response.status == 403
    code = page.evaluate(
        """() => new Promise((resolve) => {
            const ws = new WebSocket(`ws://${location.host}/ws/staff/`);
            ws.onclose = (event) => resolve(event.code);
        })"""
    )
    assert code == 4403
    assert Job.objects.count() == 0  # nothing else was touched

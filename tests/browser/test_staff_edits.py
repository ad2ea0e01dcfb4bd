"""Staff edit in the Django admin, through its own pages in a second browser context; the
customer's open portal page shows the change and its toast within 1 second of the admin's
response, without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.admin import QUICK_BONUS_POINTS
from crm.models import Message
from tests.browser.data import schedule, sent_invoice
from tests.browser.pages import admin_action, admin_save, field_of, message_rows, number_in, toasts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice(make_customer):
    return make_customer("Alice Example", login="alice", phone="555-0100", address="1 Main St")


def write_to_customer(body: str):
    """Fill the admin's message add form; the customer comes from the query string."""

    def fill(form):
        form.locator("#id_direction").select_option(Message.Direction.TO_CUSTOMER)
        form.locator("#id_body").fill(body)

    return fill


def test_job_status_changed_on_the_admin_change_form(portal, admin_page, alice):
    job = schedule(alice)
    page = portal(alice.portal_user, "/portal/appointments/")
    status = field_of(page, f"job-{job.pk}")
    expect(status).to_have_text("Scheduled")

    deadline = admin_save(
        admin_page,
        f"/admin/crm/job/{job.pk}/change/",
        lambda form: form.locator("#id_status").select_option("confirmed"),
        "job confirmed (admin change form)",
    )
    expect(status).to_have_text("Confirmed", timeout=deadline.ms())
    expect(toasts(page, "job")).to_have_count(1, timeout=deadline.ms())
    deadline.done()
    expect(toasts(page, "job")).to_contain_text("Carpet cleaning")


def test_job_started_with_an_admin_action(portal, admin_page, alice):
    job = schedule(alice, "Upholstery cleaning")
    page = portal(alice.portal_user, "/portal/appointments/")
    expect(field_of(page, f"job-{job.pk}")).to_have_text("Scheduled")

    deadline = admin_action(
        admin_page, "/admin/crm/job/", job.pk, "mark_in_progress", "job started (admin action)"
    )
    expect(field_of(page, f"job-{job.pk}")).to_have_text("In progress", timeout=deadline.ms())
    expect(toasts(page, "job")).to_have_count(1, timeout=deadline.ms())
    deadline.done()


def test_invoice_marked_paid_with_the_admin_action(portal, admin_page, alice):
    invoice = sent_invoice(alice, "240.00")
    page = portal(alice.portal_user, "/portal/invoices/")
    status = field_of(page, f"invoice-{invoice.pk}")
    expect(status).to_have_text("Sent")

    deadline = admin_action(
        admin_page, "/admin/crm/invoice/", invoice.pk, "mark_invoices_paid", "invoice paid (admin action)"
    )
    expect(status).to_have_text("Paid", timeout=deadline.ms())
    expect(toasts(page, "invoice")).to_have_count(1, timeout=deadline.ms())
    deadline.done()
    expect(toasts(page, "invoice")).to_contain_text(invoice.number)


def test_message_posted_in_the_admin(portal, admin_page, alice):
    page = portal(alice.portal_user, "/portal/")
    unread = number_in(page.locator("#unread-count"))
    body = "Your technician Dana will arrive around 9:30."

    deadline = admin_save(
        admin_page,
        f"/admin/crm/message/add/?customer={alice.pk}",
        write_to_customer(body),
        "message posted (admin add form)",
    )
    expect(page.locator("#unread-count")).to_have_text(str(unread + 1), timeout=deadline.ms())
    expect(toasts(page, "message")).to_have_count(1, timeout=deadline.ms())
    deadline.done()

    message = Message.objects.get(customer=alice, body=body)
    page.goto("/portal/messages/")
    expect(message_rows(page, body)).to_have_count(1)
    expect(page.locator(f"#message-{message.pk}")).to_contain_text(body)


def test_message_appears_in_the_open_thread(portal, admin_page, alice):
    page = portal(alice.portal_user, "/portal/messages/")
    body = "Thanks for booking with us!"
    deadline = admin_save(
        admin_page,
        f"/admin/crm/message/add/?customer={alice.pk}",
        write_to_customer(body),
        "message into the open thread (admin add form)",
    )
    expect(message_rows(page, body)).to_have_count(1, timeout=deadline.ms())
    deadline.done()
    message = Message.objects.get(customer=alice, body=body)
    expect(page.locator(f"#message-{message.pk}")).to_contain_text(body)


def test_points_awarded_with_the_admin_action(portal, admin_page, alice):
    page = portal(alice.portal_user, "/portal/loyalty/")
    balance = number_in(page.locator("#points-balance"))

    deadline = admin_action(
        admin_page, "/admin/crm/customer/", alice.pk, "award_quick_bonus", "points awarded (admin action)"
    )
    expect(page.locator("#points-balance")).to_have_text(
        str(balance + QUICK_BONUS_POINTS), timeout=deadline.ms()
    )
    expect(toasts(page, "loyalty")).to_have_count(1, timeout=deadline.ms())
    deadline.done()

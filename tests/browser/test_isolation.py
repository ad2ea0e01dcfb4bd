"""Two customers with the portal open: Bob's page never shows Alice's changes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm import services
from crm.models import Job
from tests.browser.data import schedule, sent_invoice
from tests.browser.pages import field_of, message_rows, toasts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bobs_page_never_shows_alices_changes(portal, make_customer):
    alice = make_customer("Alice Example", login="alice")
    bob = make_customer("Bob Example", login="bob")
    alice_job = schedule(alice, "Rug cleaning for Alice")
    bob_job = schedule(bob, "Sofa cleaning for Bob")
    alice_page = portal(alice.portal_user)
    bob_page = portal(bob.portal_user)

    # Alice's changes, of every topic.
    services.change_job_status(job=alice_job, status=Job.Status.CONFIRMED)
    new_job = schedule(alice, "Window cleaning for Alice", days=5)
    invoice = sent_invoice(alice, "99.00")
    services.post_message(customer=alice, body="A note for Alice only", author=None)
    services.award_points(customer=alice, points=30, description="Thanks, Alice")
    services.update_contact_details(customer=alice, phone="555-0199")

    expect(field_of(alice_page, f"job-{alice_job.pk}")).to_have_text("Confirmed")
    expect(alice_page.locator(f"#job-{new_job.pk}")).to_be_visible()
    expect(alice_page.locator(f"#invoice-{invoice.pk}")).to_be_visible()
    expect(message_rows(alice_page, "A note for Alice only")).to_have_count(1)
    expect(alice_page.locator("#points-balance")).to_have_text("30")
    expect(alice_page.locator("#profile-phone")).to_have_text("555-0199")

    # Then one of Bob's own: once his page shows it, it has processed the stream past the
    # moment Alice's changes were published.
    services.change_job_status(job=bob_job, status=Job.Status.CONFIRMED)
    expect(field_of(bob_page, f"job-{bob_job.pk}")).to_have_text("Confirmed")
    expect(toasts(bob_page, "job")).to_have_count(1)

    for row in (f"job-{alice_job.pk}", f"job-{new_job.pk}", f"invoice-{invoice.pk}"):
        expect(bob_page.locator(f"#{row}")).to_have_count(0)
    expect(message_rows(bob_page, "A note for Alice only")).to_have_count(0)
    expect(bob_page.locator("#points-balance")).to_have_text("0")
    expect(bob_page.locator("#unread-count")).to_have_text("0")
    expect(bob_page.locator("#profile-phone")).not_to_have_text("555-0199")
    expect(bob_page.locator("body")).not_to_contain_text("Alice")
    expect(toasts(bob_page)).to_have_count(1)
    expect(toasts(bob_page)).to_contain_text("Sofa cleaning for Bob")

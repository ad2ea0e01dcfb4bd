"""Lists that show part of a customer's rows stay right live: a dashboard list refills from the
server when a row leaves it, "Show older" brings earlier rows without breaking live updates, a
link to an old row loads pages until it is there, and the names and counters follow."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm import services
from tests.browser.data import schedule, sent_invoice
from tests.browser.pages import message_rows, toasts, watch_for_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice(make_customer):
    return make_customer("Alice Example", login="alice")


def test_dashboard_lists_refill_when_a_row_leaves(portal, alice):
    jobs = [schedule(alice, f"Visit {n}", days=n + 1) for n in range(6)]
    messages = [services.post_message(customer=alice, body=f"Note {n}", author=None) for n in range(4)]
    page = portal(alice.portal_user)
    upcoming = page.locator("#jobs-upcoming > li")
    expect(upcoming).to_have_count(5)
    expect(page.locator(f"#job-{jobs[5].pk}")).to_have_count(0)
    expect(page.locator("#message-list > li")).to_have_count(3)

    services.cancel_job(job=jobs[0])  # leaves "upcoming" for "recently"
    expect(page.locator(f"#jobs-past #job-{jobs[0].pk}")).to_be_visible()
    expect(page.locator(f"#jobs-upcoming #job-{jobs[5].pk}")).to_be_visible()  # the sixth moves up
    expect(upcoming).to_have_count(5)

    services.delete_message(message=messages[3])
    expect(page.locator(f"#message-{messages[0].pk}")).to_be_visible()
    expect(page.locator("#message-list > li")).to_have_count(3)
    expect(page.locator(f"#message-{messages[3].pk}")).to_have_count(0)


def test_the_greeting_and_the_nav_count_follow_live(portal, alice):
    page = portal(alice.portal_user)
    errors = watch_for_errors(page)  # the profile forms' fragments have no target here
    expect(page.locator("#greeting-name")).to_have_text("Alice Example")
    services.update_contact_details(customer=alice, name="Alice Cooper")
    expect(page.locator("#greeting-name")).to_have_text("Alice Cooper")
    expect(page.locator("#header-customer-name")).to_have_text("Alice Cooper")

    nav_count = page.locator("#nav-unread-count")
    expect(nav_count).to_be_hidden()
    services.post_message(customer=alice, body="Hello again", author=None)
    expect(nav_count).to_be_visible()
    expect(nav_count).to_contain_text("1")
    assert errors == []


def test_show_older_brings_earlier_messages_and_live_ones_still_arrive(portal, alice):
    sent = [services.post_message(customer=alice, body=f"Update {n}", author=None) for n in range(23)]
    page = portal(alice.portal_user, "/portal/messages/")
    rows = page.locator("#message-list > li")
    expect(rows).to_have_count(20)
    expect(page.locator(f"#message-{sent[2].pk}")).to_have_count(0)

    page.get_by_role("button", name="Show older").click()
    expect(rows).to_have_count(23)
    expect(page.get_by_role("button", name="Show older")).to_have_count(0)  # nothing older left
    ids = rows.evaluate_all("rows => rows.map((row) => row.id)")
    assert ids == [f"message-{message.pk}" for message in sent]  # oldest first, no duplicates

    reply = services.post_message(customer=alice, body="And one more", author=None)
    expect(page.locator("#message-list > li").last).to_have_id(f"message-{reply.pk}")
    expect(rows).to_have_count(24)
    expect(message_rows(page, "Update 0")).to_have_count(1)


def test_a_link_to_an_old_invoice_loads_older_pages_until_it_is_there(portal, alice):
    invoices = [sent_invoice(alice, f"{100 + n}.00") for n in range(23)]
    page = portal(alice.portal_user, "/portal/invoices/")
    expect(page.locator("#invoice-list > li")).to_have_count(10)
    oldest = invoices[0]
    page.goto(f"/portal/invoices/#invoice-{oldest.pk}")
    row = page.locator(f"#invoice-{oldest.pk}")
    expect(row).to_be_in_viewport()
    assert row.evaluate("el => el.matches(':target')")
    expect(page.locator("#invoice-list > li")).to_have_count(23)

    services.mark_invoice_paid(invoice=oldest)  # an old row still updates in place
    expect(row.locator('[data-field="status"]')).to_have_text("Paid")
    expect(toasts(page, "invoice")).to_have_count(1)
    expect(page.locator("#amount-due")).to_have_text(f"${sum(100 + n for n in range(1, 23))}.00")

"""The updates feed, the header bell across tabs and "while you were away" in Chromium (issue 11)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from crm import services
from realtime.models import Attendance, CustomerSequence
from tests.browser.data import schedule, sent_invoice
from tests.browser.pages import LIVE_TIMEOUT_MS, toasts, wait_live, watch_for_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECONNECT_TIMEOUT_MS = 30_000

SET_HIDDEN = """(hidden) => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def bell_count(page: Page):
    return page.locator("#updates-bell [data-bell-count]")


def caught_up(page: Page, customer) -> None:
    """Wait until the page has applied every change of the customer's."""
    last = CustomerSequence.objects.get(customer_id=customer.pk).last_seq
    page.wait_for_function(
        "(last) => window.portalRealtime.lastSeq >= last", arg=last, timeout=LIVE_TIMEOUT_MS
    )


def summary(page: Page):
    return page.locator("#toasts [data-away-summary] .toast")


def test_the_bell_counts_new_updates_live_and_opening_the_feed_clears_it_in_every_tab(portal, make_customer):
    alice = make_customer("Alice Example", login="alice")
    bob = make_customer("Bob Example", login="bob")
    first = portal(alice.portal_user, "/portal/")
    second = first.context.new_page()
    second.goto("/portal/")
    wait_live(second)
    bobs = portal(bob.portal_user, "/portal/")
    expect(bell_count(first)).to_be_hidden()

    services.post_message(customer=alice, body="Your technician is on the way", author=None)
    invoice = sent_invoice(alice)
    for page in (first, second):
        expect(bell_count(page)).to_have_text(re.compile(r"^\s*2\b"))
        expect(bell_count(page)).to_be_visible()

    second.locator("#updates-bell").click()
    second.wait_for_url("**/portal/updates/")
    entries = second.locator("#updates-list .feed-entry")
    expect(entries).to_have_count(2)
    expect(entries.nth(0)).to_contain_text(f"Invoice {invoice.number} for $180.00")
    expect(entries.nth(1)).to_contain_text("Your technician is on the way")
    expect(second.locator("#updates-list .feed-entry--new")).to_have_count(2)
    expect(entries.nth(0).locator("a.feed-link")).to_have_attribute(
        "href", f"/portal/invoices/#invoice-{invoice.pk}"
    )
    expect(bell_count(second)).to_be_hidden()
    # The other tab hears of it (a profile change) and clears its bell without a reload.
    expect(bell_count(first)).to_be_hidden()
    # A change while the feed is open: its entry arrives on top, marked new, and counts as seen,
    # so neither tab's bell counts it; the toast still shows.
    errors = watch_for_errors(second)
    services.post_message(customer=alice, body="One more thing", author=None)
    expect(entries).to_have_count(3)
    expect(entries.nth(0)).to_contain_text("One more thing")
    expect(entries.nth(0).locator(".badge--new")).to_be_visible()
    expect(toasts(second, "message")).to_contain_text("One more thing")
    for page in (first, second):
        caught_up(page, alice)  # the seen mark (a profile change) included
        expect(bell_count(page)).to_be_hidden()
    assert errors == []
    # Bob's portal never saw any of it.
    wait_live(bobs)
    expect(bell_count(bobs)).to_be_hidden()
    bobs.goto("/portal/updates/")
    expect(bobs.locator("#updates-list .feed-entry")).to_have_count(0)
    expect(bobs.locator("main")).not_to_contain_text("technician")


def test_back_from_a_hidden_tab_one_summary_replaces_the_toasts_it_missed(portal, make_customer):
    alice = make_customer("Alice Example", login="alice")
    job = schedule(alice, days=3)
    invoice = sent_invoice(alice)
    page = portal(alice.portal_user, "/portal/")
    page.evaluate(SET_HIDDEN, True)

    services.post_message(customer=alice, body="One", author=None)
    services.post_message(customer=alice, body="Two", author=None)
    services.mark_invoice_paid(invoice=invoice)
    day = timezone.localtime(job.scheduled_start).strftime("%a %-d %b")  # the day it was on
    later = job.scheduled_start + dt.timedelta(days=1)
    services.reschedule_job(job=job, start=later, end=later + dt.timedelta(hours=2))
    caught_up(page, alice)  # applied while hidden, with their toasts

    page.evaluate(SET_HIDDEN, False)
    expect(summary(page)).to_have_count(1)
    expect(summary(page)).to_contain_text("While you were away")
    expect(summary(page)).to_contain_text(
        f"2 new messages · invoice {invoice.number} paid · appointment on {day} moved"
    )
    expect(summary(page).locator("a.toast-action")).to_have_attribute("href", "/portal/updates/")
    # It replaces the toasts of what arrived while hidden.
    expect(toasts(page)).to_have_count(1)


def test_after_a_reconnect_the_summary_replaces_the_catch_up_toast(dedicated_server, portal, make_customer):
    alice = make_customer("Alice Example", login="alice")
    invoice = sent_invoice(alice)
    page = portal(alice.portal_user, "/portal/", base_url=dedicated_server.url)
    dedicated_server.stop()
    expect(page.locator('[data-connection-status][data-variant="badge"]')).to_have_attribute(
        "data-state", "reconnecting"
    )
    services.post_message(customer=alice, body="While you were out", author=None)
    services.mark_invoice_paid(invoice=invoice)
    dedicated_server.start()
    wait_live(page, timeout=RECONNECT_TIMEOUT_MS)
    expect(summary(page)).to_contain_text(f"1 new message · invoice {invoice.number} paid")
    expect(toasts(page)).to_have_count(1)  # no "2 updates" beside it
    expect(page.locator("#message-list")).to_contain_text("While you were out")  # the lists caught up too


def test_a_returning_customers_first_page_sums_up_what_came_while_no_tab_was_open(portal, make_customer):
    alice = make_customer("Alice Example", login="alice")
    Attendance.objects.create(customer_id=alice.pk, connected_until=timezone.now() - dt.timedelta(days=1))
    invoice = sent_invoice(alice)
    services.post_message(customer=alice, body="Welcome back", author=None)
    page = portal(alice.portal_user, "/portal/")
    expect(summary(page)).to_contain_text(f"1 new message · new invoice {invoice.number}")
    summary(page).locator("a.toast-action").click()
    page.wait_for_url("**/portal/updates/")
    expect(page.locator("#updates-list .feed-entry")).to_have_count(2)
    page.goto("/portal/")  # once per login
    wait_live(page)
    expect(summary(page)).to_have_count(0)

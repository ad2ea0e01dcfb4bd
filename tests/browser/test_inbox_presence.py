"""The staff inbox shows, beside each open item's customer, whether they have the portal open
and what they look at (issue 12, Deliver item 3), live: online when they open the portal,
offline when the page closes, without a reload."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from crm import services
from tests.browser.pages import LATENCIES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRESENCE_TIMEOUT_MS = 5_000  # a socket's close reaches the room, announced a few times a second


@pytest.fixture
def alice(make_customer):
    return make_customer("Alice Example", login="alice")


def presence_of(inbox: Page, customer) -> object:
    return inbox.locator(f'.staff-inbox-item[data-customer="{customer.pk}"] .staff-inbox-presence')


def test_the_inbox_shows_a_customer_online_on_their_page_then_offline_when_they_leave(
    portal, admin_page, alice
):
    services.customer_message(customer=alice, body="Is anyone there?", author=None)
    admin_page.goto("/admin/inbox/")
    expect(admin_page.locator("#staff-inbox-link")).to_have_attribute("data-live", "open")
    shown = presence_of(admin_page, alice)
    expect(shown).to_have_text("offline")

    page = portal(alice.portal_user, "/portal/messages/")
    expect(shown).to_have_text("● online · on Messages", timeout=PRESENCE_TIMEOUT_MS)
    expect(shown).to_have_attribute("data-presence", "active")

    page.goto("/portal/invoices/")  # another page of hers: the inbox follows
    expect(shown).to_have_text("● online · on Invoices", timeout=PRESENCE_TIMEOUT_MS)

    started = time.monotonic()
    page.close()  # she leaves
    expect(shown).to_have_text("offline", timeout=PRESENCE_TIMEOUT_MS)
    LATENCIES.append(("presence: portal tab closed -> inbox offline", time.monotonic() - started))
    expect(shown).to_have_attribute("data-presence", "offline")


def test_a_new_items_customer_shows_as_online_when_the_row_arrives(portal, admin_page, alice):
    admin_page.goto("/admin/inbox/")
    expect(admin_page.locator("#staff-inbox-link")).to_have_attribute("data-live", "open")
    page = portal(alice.portal_user, "/portal/messages/")
    page.locator("#message-form textarea").fill("Hello from the portal")
    page.locator("#message-form button[type=submit]").click()
    expect(presence_of(admin_page, alice)).to_have_text("● online · on Messages", timeout=PRESENCE_TIMEOUT_MS)

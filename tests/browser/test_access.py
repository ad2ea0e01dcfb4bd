"""Who gets the portal: staff are sent to the admin; logging out ends the other tabs' live pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import badge

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_opening_the_portal_are_sent_to_the_admin(admin_page):
    admin_page.goto("/portal/")
    expect(admin_page).to_have_url(re.compile(r"/admin/$"))


@pytest.mark.parametrize("attempt", range(3))  # a race: a few tries make a lucky pass unlikely
def test_logging_out_sends_the_other_tab_to_the_login_page(portal, make_customer, attempt):
    alice = make_customer("Alice Example", login="alice")
    page = portal(alice.portal_user, "/portal/invoices/")
    other_tab = page.context.new_page()
    other_tab.goto("/portal/messages/")
    expect(badge(other_tab)).to_have_attribute("data-state", "live")

    page.get_by_role("button", name="Log out").click()
    # This tab closed its own socket first: it lands on the plain login page, with the notice.
    expect(page).to_have_url(re.compile(r"/portal/login/$"))
    expect(page.locator(".login-card")).to_contain_text("You have been logged out.")
    # The server closes the session's sockets (4401); the other tab goes to the login page
    # for where it was, without taking this tab's notice, and does not retry.
    expect(other_tab).to_have_url(re.compile(r"/portal/login/\?next=%2Fportal%2Fmessages%2F$"))
    expect(other_tab.locator(".login-card")).not_to_contain_text("logged out")
    expect(other_tab.locator("#toasts .toast")).to_have_count(0)

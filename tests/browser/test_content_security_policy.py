"""The portal and the admin work under the Content-Security-Policy (default-src 'self', nothing
inline): htmx, the ES-module client and its WebSocket, the admin's widgets and staff presence.

Every browser test fails when a page breaks the policy (`new_page` in conftest.py); these tests
drive the parts that need it most, and prove that such a break is noticed at all.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm import services
from tests.browser.conftest import watch_csp
from tests.browser.data import schedule
from tests.browser.pages import field_of, log_in_to_portal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice(make_customer):
    return make_customer("Alice Example", login="alice")


def test_htmx_and_the_live_client_run_under_the_policy(portal, alice):
    job = schedule(alice)
    page = portal(alice.portal_user)  # live: the socket opened under connect-src
    assert page.evaluate("() => typeof htmx") == "object"

    services.update_job(job=job, technician="Ann Lee")  # a live change: POST /portal/live/, htmx swaps
    expect(page.locator(f"#job-{job.pk}")).to_contain_text("Ann Lee")
    services.change_job_status(job=job, status="confirmed")
    expect(field_of(page, f"job-{job.pk}")).to_have_text("Confirmed")


def test_the_admin_runs_under_the_policy(admin_page, alice):
    job = schedule(alice)
    admin_page.goto(f"/admin/crm/job/{job.pk}/change/")
    admin_page.locator("#calendarlink0").click()  # the admin's date widget, its own script
    expect(admin_page.locator("#calendarbox0")).to_be_visible()

    # Staff presence on the customer page: an ES module whose socket answers with the room.
    admin_page.goto(f"/admin/crm/customer/{alice.pk}/change/")
    expect(admin_page.locator("#portal-presence")).to_have_attribute("data-state", "offline")
    expect(admin_page.locator("#portal-presence")).to_contain_text("not online")


def test_a_page_that_breaks_the_policy_is_noticed(chromium, server, alice):
    context = chromium.new_context(base_url=server.url)
    violations: list[str] = []
    watch_csp(context, violations)
    try:
        page = log_in_to_portal(context.new_page(), "alice")
        inject = "() => { const s = document.createElement('script'); s.text = 'window.injected = 1'; document.head.append(s); }"
        with page.expect_console_message(lambda message: message.text.startswith("CSP violation")):
            page.evaluate(inject)  # what injected markup would do: refused
        assert page.evaluate("() => window.injected") is None
        assert any("script-src" in violation for violation in violations), violations
    finally:
        context.close()

"""The connection badge follows the socket through a server restart, and a change committed
while the server was down reaches the page once it is back (resume with `since`)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm import services
from crm.models import Job
from realtime.models import CustomerSequence
from tests.browser.data import schedule
from tests.browser.pages import badge, field_of, toasts, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECONNECT_TIMEOUT_MS = 30_000  # the client's backoff decides when it tries again
DOWNTIME_MS = 4_000  # long enough for several refused attempts after the 1012


def test_badge_shows_reconnecting_then_live_and_the_missed_change_arrives(
    dedicated_server, portal, make_customer
):
    alice = make_customer("Alice Example", login="alice")
    job = schedule(alice)
    page = portal(alice.portal_user, "/portal/", base_url=dedicated_server.url)
    subscriptions = page.locator("#subscription-status")
    expect(subscriptions).to_contain_text("6/6 active")

    dedicated_server.stop()
    expect(badge(page)).to_have_attribute("data-state", "reconnecting")
    expect(subscriptions).to_have_attribute("data-state", "reconnecting")
    expect(subscriptions).to_contain_text("0/6 active")

    # Committed while nothing serves the socket: it is in the outbox, and in no frame yet.
    services.change_job_status(job=job, status=Job.Status.CONFIRMED)
    expect(field_of(page, f"job-{job.pk}")).to_have_text("Scheduled")

    dedicated_server.start()
    wait_live(page, timeout=RECONNECT_TIMEOUT_MS)
    expect(field_of(page, f"job-{job.pk}")).to_have_text("Confirmed")
    expect(subscriptions).to_contain_text("6/6 active")
    expect(toasts(page, "job")).to_have_count(1)
    assert page.evaluate("window.portalRealtime.isConnected") is True
    assert (
        page.evaluate("window.portalRealtime.lastSeq")
        == CustomerSequence.objects.get(customer_id=alice.pk).last_seq
    )


def test_a_server_restart_is_live_again_within_5_s_of_the_server_answering(
    dedicated_server, portal, make_customer
):
    """SIGTERM closes the page's socket with 1012 (service restart): the client retries every
    0.2-3 s until the server is back, instead of backing off as it would for a network failure."""
    alice = make_customer("Alice Example", login="alice")
    page = portal(alice.portal_user, "/portal/", base_url=dedicated_server.url)
    wait_live(page)
    dedicated_server.stop()  # SIGTERM: an orderly shutdown, sockets closed with 1012
    expect(badge(page)).to_have_attribute("data-state", "reconnecting")
    page.wait_for_timeout(DOWNTIME_MS)  # the scenario: a restart that takes a while
    dedicated_server.start()  # returns once the server answers
    wait_live(page, timeout=5_000)

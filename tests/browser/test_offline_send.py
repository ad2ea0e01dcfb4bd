"""Offline sending (docs/components.md, "Offline sending"): a message sent, or marked read, while
the socket is down waits in the tab as "Waiting to send", survives a reload, and is sent exactly
once when the socket is back; an answer lost on the way never makes a second message."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from crm import services
from crm.models import Message
from tests.browser.pages import (
    LATENCIES,
    SocketSwitch,
    badge,
    log_in_to_portal,
    message_rows,
    wait_live,
    watch_for_errors,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Reconnect quickly once the socket is let through again.
QUICK_RECONNECT = "window.PORTAL_REALTIME_CONFIG = {backoffBaseMs: 200, backoffCapMs: 800};"
RECONNECT_TIMEOUT_MS = 15_000


@pytest.fixture
def alice(make_customer):
    customer = make_customer("Alice Example", login="alice")
    services.post_message(customer=customer, body="Your technician is on the way", author=None)
    return customer


def sent_by(customer, body: str) -> int:
    return Message.objects.filter(customer=customer, direction="to_staff", body=body).count()


def waiting(page: Page):
    return page.locator("[data-outbox-key]")


def stored(page: Page) -> list:
    return page.evaluate(
        "Object.keys(localStorage).filter((k) => k.startsWith('portal-outbox:'))"
        ".flatMap((k) => JSON.parse(localStorage.getItem(k)))"
    )


def test_offline_send_and_read_go_exactly_once_after_a_reload_and_a_reconnect(new_page, alice):
    page = new_page()
    page.context.add_init_script(QUICK_RECONNECT)
    switch = SocketSwitch(page.context)
    errors = watch_for_errors(page)
    log_in_to_portal(page, "alice", path="/portal/messages/")
    staff_message = alice.messages.get()
    unread = page.locator("#unread-count")
    expect(unread).to_have_text("1")

    # The network goes: the socket is down (the badge says so, and a change staff make now does
    # not arrive), and nothing the customer does reaches the server.
    page.context.set_offline(True)
    expect(badge(page)).to_have_attribute("data-state", "offline")
    assert page.evaluate("window.portalRealtime.isConnected") is False
    services.post_message(customer=alice, body="Sent while you were offline", author=None)

    page.locator("#message-form textarea[name='body']").fill("Sent from the train")
    page.locator("#message-form [type='submit']").click()
    row = message_rows(page, "Sent from the train")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Waiting to send")
    page.locator(f"#message-{staff_message.pk} [data-action='mark-read'] button").click()
    expect(page.locator(f"#message-{staff_message.pk}")).to_contain_text("Read · waiting to send")
    expect(unread).to_have_text("0")
    expect(message_rows(page, "Sent while you were offline")).to_have_count(0)
    assert [item["kind"] for item in stored(page)] == ["message", "read"]
    page.wait_for_timeout(500)
    assert sent_by(alice, "Sent from the train") == 0
    staff_message.refresh_from_db()
    assert staff_message.read_at is None

    # The network is back but the socket still cannot connect: a reload shows what waits, and
    # a message sent now (HTTP works, the socket does not) waits too.
    switch.down()
    page.context.set_offline(False)
    page.reload()
    expect(badge(page)).not_to_have_attribute("data-state", "live")
    expect(message_rows(page, "Sent from the train")).to_contain_text("Waiting to send")
    expect(page.locator(f"#message-{staff_message.pk}")).to_contain_text("Read · waiting to send")
    page.locator("#message-form textarea[name='body']").fill("And one more")
    page.locator("#message-form [type='submit']").click()
    expect(message_rows(page, "And one more")).to_contain_text("Waiting to send")
    page.wait_for_timeout(500)
    assert sent_by(alice, "Sent from the train") == sent_by(alice, "And one more") == 0

    # The socket is back: everything waiting goes, once, in order, and the rows become real.
    switch.up()
    wait_live(page, timeout=RECONNECT_TIMEOUT_MS)
    live = time.monotonic()
    expect(waiting(page)).to_have_count(0)
    LATENCIES.append(
        ("offline sending: socket live -> two messages and a read sent", time.monotonic() - live)
    )
    expect(message_rows(page, "Sent from the train")).to_contain_text("Sent")
    expect(message_rows(page, "Sent while you were offline")).to_have_count(1)  # resumed
    assert stored(page) == []
    sent = list(alice.messages.filter(direction="to_staff").order_by("id").values_list("body", flat=True))
    assert sent == ["Sent from the train", "And one more"]
    staff_message.refresh_from_db()
    assert staff_message.read_at is not None
    expect(page.locator(f"#message-{staff_message.pk} [data-field='read']")).to_have_text("Read")

    # Nothing is sent again by another reload.
    page.reload()
    wait_live(page)
    expect(message_rows(page, "Sent from the train")).to_have_count(1)
    expect(message_rows(page, "And one more")).to_have_count(1)
    page.wait_for_timeout(500)
    assert sent_by(alice, "Sent from the train") == sent_by(alice, "And one more") == 1
    assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e and "Failed to load" not in e] == []


def test_an_answer_lost_on_the_way_is_retried_with_its_key_and_makes_one_message(portal, alice):
    """The POST reaches the server, which makes the message, but its answer never arrives."""
    page = portal(alice.portal_user, "/portal/messages/")
    lost: list[int] = []

    def lose_the_answer(route):
        response = route.fetch()  # the server handles it...
        lost.append(response.status)
        route.abort("connectionreset")  # ...and the page never hears back

    page.route("**/portal/messages/send/", lose_the_answer, times=1)
    page.locator("#message-form textarea[name='body']").fill("Is 9 am fine?")
    page.locator("#message-form [type='submit']").click()
    # It waits (the realtime echo of the message the server did make may show beside it)...
    expect(message_rows(page, "Is 9 am fine?").filter(has_text="Waiting to send")).to_have_count(1)
    assert lost == [200]
    # ...and the retry, a few seconds later with the same key, gets that message back.
    expect(waiting(page)).to_have_count(0, timeout=RECONNECT_TIMEOUT_MS)
    expect(message_rows(page, "Is 9 am fine?")).to_have_count(1)
    expect(message_rows(page, "Is 9 am fine?").locator("[data-field='read']")).to_have_text("Sent")
    assert sent_by(alice, "Is 9 am fine?") == 1
    page.reload()
    expect(message_rows(page, "Is 9 am fine?")).to_have_count(1)


def test_a_live_tab_sends_what_a_tab_without_its_socket_kept(new_page, alice):
    first = new_page()
    log_in_to_portal(first, "alice", path="/portal/messages/")
    second = first.context.new_page()
    second.goto("/portal/messages/")
    wait_live(second)
    # Only the first tab loses its socket: its reconnects are refused.
    first.route_web_socket("**/ws/realtime/**", lambda socket: socket.close(code=1011, reason="down"))
    first.evaluate("window.portalRealtime.reconnect()")
    expect(badge(first)).not_to_have_attribute("data-state", "live")

    first.locator("#message-form textarea[name='body']").fill("From the tab that lost its socket")
    first.locator("#message-form [type='submit']").click()
    # The other tab, live, sends it; the first tab's waiting row goes when the outbox empties.
    expect(message_rows(second, "From the tab that lost its socket")).to_contain_text("Sent")
    expect(waiting(first)).to_have_count(0)
    assert stored(first) == []
    assert sent_by(alice, "From the tab that lost its socket") == 1

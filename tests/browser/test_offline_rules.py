"""Offline sending's edges (docs/components.md, "Offline sending"): logging out with messages
waiting asks and discards them, a busy answer to an online send is retried with the same key,
and a waiting read lowers every unread count and shows "Read" only once the server took it."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from crm import services
from tests.browser.pages import SocketSwitch, badge, log_in_to_portal, message_rows, toasts, wait_live
from tests.browser.test_offline_send import QUICK_RECONNECT, RECONNECT_TIMEOUT_MS, sent_by, stored, waiting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice(make_customer):
    customer = make_customer("Alice Example", login="alice")
    services.post_message(customer=customer, body="Your technician is on the way", author=None)
    return customer


def socket_down_page(new_page) -> tuple[Page, SocketSwitch]:
    """Alice's messages page, live, then with its socket refused (HTTP still works)."""
    page = new_page()
    page.context.add_init_script(QUICK_RECONNECT)
    switch = SocketSwitch(page.context)
    log_in_to_portal(page, "alice", path="/portal/messages/")
    switch.down()
    expect(badge(page)).not_to_have_attribute("data-state", "live")
    return page, switch


def send(page: Page, text: str) -> None:
    page.locator("#message-form textarea[name='body']").fill(text)
    page.locator("#message-form [type='submit']").click()


def test_logging_out_with_a_waiting_message_asks_and_discards_it(new_page, alice):
    page, switch = socket_down_page(new_page)
    send(page, "Written before logging out")
    expect(message_rows(page, "Written before logging out")).to_contain_text("Waiting to send")

    # "Cancel": still logged in, on the same page, the message still waiting.
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.locator("form[data-logout] [type='submit']").click()
    expect(message_rows(page, "Written before logging out")).to_contain_text("Waiting to send")
    page.wait_for_timeout(500)
    assert questions == ["1 message is not sent yet and will be discarded. Log out anyway?"]
    assert page.url.endswith("/portal/messages/")
    assert [item["body"] for item in stored(page)] == ["Written before logging out"]

    # "OK": logged out, and nothing is kept for the next login.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form[data-logout] [type='submit']").click()
    page.wait_for_url(re.compile(r"/portal/login/"))
    assert stored(page) == []
    switch.up()
    log_in_to_portal(page, "alice", path="/portal/messages/")
    page.wait_for_timeout(1000)
    expect(message_rows(page, "Written before logging out")).to_have_count(0)
    assert sent_by(alice, "Written before logging out") == 0


def test_a_busy_answer_to_an_online_send_is_retried_with_the_same_key(portal, alice):
    """A 503 (or a proxy's 502/504) may come after the message was made: never a new key."""
    page = portal(alice.portal_user, "/portal/messages/")
    keys: list[str] = []
    page.on(
        "request",
        lambda request: (
            request.url.endswith("/portal/messages/send/")
            and keys.append(re.search(r'name="key"\r\n\r\n([^\r]+)', request.post_data or "")[1])
        ),
    )
    busy = {"status": 503, "headers": {"Retry-After": "1"}, "content_type": "application/json"}
    page.route("**/portal/messages/send/", lambda route: route.fulfill(**busy, body='{"ok": false}'), times=1)
    send(page, "Can you come at 10?")
    expect(message_rows(page, "Can you come at 10?")).to_contain_text("Waiting to send")
    expect(page.locator("#message-form textarea[name='body']")).to_have_value("")
    expect(waiting(page)).to_have_count(0, timeout=RECONNECT_TIMEOUT_MS)
    expect(message_rows(page, "Can you come at 10?").locator("[data-field='read']")).to_have_text("Sent")
    assert sent_by(alice, "Can you come at 10?") == 1
    assert len(keys) == 2 and keys[0] == keys[1], keys


def test_a_waiting_read_lowers_the_nav_count_and_shows_read_only_once_taken(new_page, alice):
    staff_message = alice.messages.get()
    page, switch = socket_down_page(new_page)
    row = page.locator(f"#message-{staff_message.pk}")
    nav = page.locator("#nav-unread-count")
    expect(nav).to_be_visible()
    row.locator("[data-action='mark-read'] button").click()
    expect(row).to_contain_text("Read · waiting to send")
    expect(page.locator("#unread-count")).to_have_text("0")
    expect(nav).to_be_hidden()  # the nav's count went to 0 too

    # The server refuses it when it is sent: the message is unread again, not "Read".
    refusal = json.dumps({"ok": False, "error": "That message is not in your inbox."})
    page.route(
        f"**/portal/messages/{staff_message.pk}/read/",
        lambda route: route.fulfill(status=404, content_type="application/json", body=refusal),
        times=1,
    )
    switch.up()
    wait_live(page, timeout=RECONNECT_TIMEOUT_MS)
    expect(waiting(page)).to_have_count(0)
    expect(toasts(page).filter(has_text="That message is not in your inbox.")).to_have_count(1)
    expect(row.locator("[data-action='mark-read']")).to_be_visible()
    expect(row).not_to_contain_text("Read")
    expect(page.locator("#unread-count")).to_have_text("1")
    expect(nav).to_be_visible()
    staff_message.refresh_from_db()
    assert staff_message.read_at is None

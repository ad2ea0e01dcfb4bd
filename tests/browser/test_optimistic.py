"""Customer actions change the page at once; the server's answer and its realtime echo
reconcile without double rendering, and a refusal rolls the change back with an error toast."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm import services
from crm.models import LoyaltyTransaction, Message
from tests.browser.pages import message_rows, toasts
from tests.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every text #points-balance shows, in order, recorded in the page as it happens: the
# optimistic value may last only milliseconds, too short to catch by polling from here.
RECORD_BALANCE = """() => {
  const balance = document.getElementById("points-balance");
  window.balanceSeen = [balance.textContent.trim()];
  new MutationObserver(() => window.balanceSeen.push(balance.textContent.trim()))
    .observe(balance, {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture
def alice(make_customer):
    return make_customer("Alice Example", login="alice")


def page_errors(page) -> list[str]:
    """Uncaught script errors on the page (a refused action must not leave any)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_redeeming_more_than_the_balance_is_refused_on_the_page(portal, alice):
    services.award_points(customer=alice, points=120, description="Welcome bonus")
    page = portal(alice.portal_user, "/portal/loyalty/")
    expect(page.locator("#points-balance")).to_have_text("120")
    page.evaluate(RECORD_BALANCE)
    posted: list[str] = []
    page.on("request", lambda request: request.method == "POST" and posted.append(request.url))

    points = page.locator('#redeem-form input[name="points"]')
    expect(points).to_have_attribute("min", "1")
    expect(points).to_have_attribute("max", "120")
    points.fill("500")
    page.locator('#redeem-form [type="submit"]').click()

    error = page.locator('#redeem-form [data-error-for="points"]')
    expect(error).to_have_text("Not enough points: 500 asked, 120 available.")
    expect(points).to_have_attribute("aria-invalid", "true")
    expect(points).to_have_attribute("aria-describedby", error.get_attribute("id"))
    expect(points).to_be_focused()
    assert page.evaluate("window.balanceSeen") == ["120"], "the balance moved"
    assert not [url for url in posted if url.endswith("/portal/loyalty/redeem/")]

    points.fill("100")  # typing again clears the error
    expect(error).to_be_hidden()
    expect(points).not_to_have_attribute("aria-invalid", "true")


def test_a_stale_balance_refused_by_the_server_rolls_back_with_errors(portal, alice):
    services.award_points(customer=alice, points=120, description="Welcome bonus")
    page = portal(alice.portal_user, "/portal/loyalty/")
    errors = page_errors(page)
    # Live fragments stop arriving, so the page keeps showing 120 after staff take 100 away.
    page.route("**/portal/live/", lambda route: None)
    services.adjust_points(customer=alice, points=-100, description="Correction")
    page.evaluate(RECORD_BALANCE)

    form = page.locator("#redeem-form")
    form.locator('input[name="points"]').fill("100")
    form.locator('[type="submit"]').click()
    form.locator("[data-confirm-yes]").click()

    toast = page.locator("#toasts .toast[data-toast-error]")
    expect(toast).to_have_count(1)
    expect(toast).to_contain_text("Not enough points: 100 asked, 20 available.")
    expect(form.locator('[data-error-for="points"]')).to_have_text(
        "Not enough points: 100 asked, 20 available."
    )
    expect(page.locator("#points-balance")).to_have_text("120")
    seen = page.evaluate("window.balanceSeen")
    assert seen[0] == "120" and seen[-1] == "120" and "20" in seen, seen
    assert not LoyaltyTransaction.objects.filter(kind=LoyaltyTransaction.Kind.REDEEMED).exists()
    expect(form.locator('[type="submit"]')).to_be_enabled()
    assert errors == []


def test_accepted_redemption_stays_and_does_not_toast_but_staffs_does(portal, alice):
    services.award_points(customer=alice, points=120, description="Welcome bonus")
    page = portal(alice.portal_user, "/portal/loyalty/")
    page.evaluate(RECORD_BALANCE)

    form = page.locator("#redeem-form")
    form.locator('input[name="points"]').fill("100")
    form.locator('[type="submit"]').click()
    form.locator("[data-confirm-yes]").click()  # redeeming asks first

    redeemed = wait_for(
        lambda: LoyaltyTransaction.objects.filter(kind=LoyaltyTransaction.Kind.REDEEMED).first(),
        message="the redemption to commit",
    )
    # The echo's row is on the page: any toast of the same batch would be too.
    expect(page.locator(f"#loyalty-{redeemed.pk}")).to_have_count(1)
    expect(page.locator("#points-balance")).to_have_text("20")
    expect(form.locator('input[name="points"]')).to_have_attribute("max", "20")
    expect(toasts(page)).to_have_count(0)
    assert "120" not in page.evaluate("window.balanceSeen")[1:], "the balance went back up on the way"

    by_staff = services.redeem_points(customer=alice, points=10, description="Redeemed by phone")
    expect(page.locator(f"#loyalty-{by_staff.pk}")).to_have_count(1)
    expect(toasts(page, "loyalty")).to_have_count(1)
    expect(toasts(page, "loyalty")).to_contain_text("Points redeemed")


def test_sent_message_is_shown_once_after_its_echo(portal, alice):
    page = portal(alice.portal_user, "/portal/messages/")
    body = "Could the technician come after 10?"
    form = page.locator("#message-form")
    form.locator('textarea[name="body"]').fill(body)
    form.locator('[type="submit"]').click()
    # At once, before the server has answered or echoed: the optimistic row.
    expect(message_rows(page, body)).to_have_count(1)

    sent = wait_for(lambda: Message.objects.filter(customer=alice, body=body).first(), message="the message")
    expect(page.locator(f"#message-{sent.pk}")).to_contain_text(body)
    # A later change of the same topic: once it is on the page, the echo of the sent message
    # (an earlier seq) has been applied too, so a duplicate would be there by now.
    reply = services.post_message(customer=alice, body="Sure, 10:30 it is.", author=None)
    expect(page.locator(f"#message-{reply.pk}")).to_be_visible()
    expect(message_rows(page, body)).to_have_count(1)
    expect(page.locator(f"#message-{sent.pk}")).to_have_count(1)
    expect(form.locator('textarea[name="body"]')).to_have_value("")
    expect(page.locator("#toasts .toast[data-toast-error]")).to_have_count(0)


def test_the_pending_message_says_sending_once(portal, alice):
    page = portal(alice.portal_user, "/portal/messages/")
    page.route("**/portal/messages/send/", lambda route: None)  # the answer never comes
    form = page.locator("#message-form")
    form.locator('textarea[name="body"]').fill("Is Tuesday fine?")
    form.locator('[type="submit"]').click()
    pending = page.locator("#message-list > .message--pending")
    expect(pending).to_contain_text("Is Tuesday fine?")
    assert pending.inner_text().count("Sending…") == 1

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


def test_refused_redemption_rolls_back_with_an_error_toast(portal, alice):
    services.award_points(customer=alice, points=120, description="Welcome bonus")
    page = portal(alice.portal_user, "/portal/loyalty/")
    balance = page.locator("#points-balance")
    expect(balance).to_have_text("120")
    page.evaluate(RECORD_BALANCE)

    form = page.locator("#redeem-form")
    form.locator('input[name="points"]').fill("500")
    form.locator('[type="submit"]').click()

    error = page.locator("#toasts .toast[data-toast-error]")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("Not enough points")
    expect(balance).to_have_text("120")
    seen = page.evaluate("window.balanceSeen")
    assert seen[0] == "120" and seen[-1] == "120", seen
    assert "-380" in seen, f"the balance never dropped optimistically: {seen}"
    assert not LoyaltyTransaction.objects.filter(kind=LoyaltyTransaction.Kind.REDEEMED).exists()
    expect(form.locator('[type="submit"]')).to_be_enabled()


def test_accepted_redemption_stays_and_toasts_once(portal, alice):
    services.award_points(customer=alice, points=120, description="Welcome bonus")
    page = portal(alice.portal_user, "/portal/loyalty/")
    page.evaluate(RECORD_BALANCE)

    form = page.locator("#redeem-form")
    form.locator('input[name="points"]').fill("100")
    form.locator('[type="submit"]').click()

    redeemed = wait_for(
        lambda: LoyaltyTransaction.objects.filter(kind=LoyaltyTransaction.Kind.REDEEMED).first(),
        message="the redemption to commit",
    )
    expect(page.locator(f"#loyalty-{redeemed.pk}")).to_have_count(1)
    expect(toasts(page, "loyalty")).to_have_count(1)
    expect(page.locator("#points-balance")).to_have_text("20")
    assert "120" not in page.evaluate("window.balanceSeen")[1:], "the balance went back up on the way"
    expect(page.locator("#toasts .toast[data-toast-error]")).to_have_count(0)


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

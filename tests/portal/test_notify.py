"""Notified everywhere, the way the customer chose (issue 11, items 1, 2 and 6), on the server:
every page's live batch toasts and counts every topic but rows only its own, a muted category
never toasts but still updates, toasts name their record, and the words are the customer's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm import notifications, services
from crm.admin import QUICK_BONUS_DESCRIPTION
from crm.models import LoyaltyTransaction
from tests.portal.test_live import last_seq, seqs_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]


def live(client, seqs: str, topics: str | None = None):
    data = {"seqs": seqs} if topics is None else {"seqs": seqs, "topics": topics}
    return client.post(reverse("portal:live"), data)


def test_is_muted_reads_the_four_switches_by_category_or_topic(alice):
    assert not notifications.is_muted(alice, "loyalty")
    services.update_preferences(customer=alice, preferences={"notify_loyalty": False})
    alice.refresh_from_db()
    assert notifications.is_muted(alice, "loyalty") and notifications.is_muted(alice, "loyalty")
    assert notifications.is_muted(alice.preferences, "loyalty")
    assert not notifications.is_muted(alice, "appointments") and not notifications.is_muted(alice, "jobs")
    assert notifications.muted_topics(alice) == {"loyalty"}
    # Missing switches count as on; profile and unknown categories are never muted.
    assert notifications.muted_topics({}) == frozenset()
    assert not notifications.is_muted({"notify_messages": False}, "profile")
    assert notifications.is_muted({"notify_messages": False}, "messages")


def test_a_page_gets_toasts_and_nav_counts_of_every_topic_but_rows_of_its_own_only(client_for, alice):
    client = client_for(alice)
    before = last_seq(alice)
    message = services.post_message(customer=alice, body="Your technician is on the way", author=None)
    award = services.award_points(customer=alice, points=7, description="Thanks for the review", bonus=True)
    html = live(client, seqs_of(alice, before), topics="jobs").content.decode()
    # The appointments page: no message or loyalty rows to put anywhere...
    assert f'id="message-{message.pk}"' not in html and f'id="loyalty-{award.pk}"' not in html
    assert "hx-upsert" not in html
    # ...but the nav's unread count and points, and a toast naming both changes.
    assert 'id="nav-unread-count" class="nav-count" hx-swap-oob="true">2<' in html
    assert 'id="nav-points" class="nav-points" hx-swap-oob="true">127<' in html
    assert 'data-unread="2"' in html and 'data-points="127"' in html
    assert html.count('class="toast ') == 1 and "2 updates" in html

    # The loyalty page of the same batch gets the row too.
    html = live(client, seqs_of(alice, before), topics="loyalty").content.decode()
    assert f'id="loyalty-{award.pk}"' in html and 'hx-target="#loyalty-list"' in html
    assert f'id="message-{message.pk}"' not in html


def test_topics_must_be_known(client_for, alice):
    response = live(client_for(alice), seqs_of(alice), topics="jobs reviews")
    assert response.status_code == 400
    assert b"topics must name known topics" in response.content


def test_a_muted_category_updates_lists_and_counts_without_a_toast(client_for, alice):
    client = client_for(alice)
    services.update_preferences(customer=alice, preferences={"notify_loyalty": False})
    before = last_seq(alice)
    award = services.award_points(customer=alice, points=7, description="Thanks for the review", bonus=True)
    html = live(client, seqs_of(alice, before), topics="loyalty").content.decode()
    assert f'id="loyalty-{award.pk}"' in html
    assert 'id="points-balance" class="balance-value" hx-swap-oob="true">127<' in html
    assert "toast" not in html

    # Other categories still toast; switching loyalty back on toasts the next award at once.
    before = last_seq(alice)
    services.post_message(customer=alice, body="See you tomorrow", author=None)
    services.update_preferences(customer=alice, preferences={"notify_loyalty": True})
    services.award_points(customer=alice, points=3, description="Another thank-you", bonus=True)
    html = live(client, seqs_of(alice, before), topics="loyalty").content.decode()
    assert html.count('class="toast ') == 1 and "2 updates" in html


def test_a_completed_job_still_toasts_its_points_when_appointments_are_muted(client_for, alice):
    client = client_for(alice)
    services.update_preferences(customer=alice, preferences={"notify_appointments": False})
    before = last_seq(alice)
    services.complete_job(job=alice.jobs.get())
    html = live(client, seqs_of(alice, before)).content.decode()
    assert html.count('class="toast ') == 1 and 'data-toast-type="loyalty"' in html
    assert 'data-toast-type="job"' not in html


def test_a_toast_names_its_record_so_a_newer_one_replaces_it(client_for, alice):
    client = client_for(alice)
    job = alice.jobs.get()
    before = last_seq(alice)
    services.change_job_status(job=job, status="confirmed")
    html = live(client, seqs_of(alice, before)).content.decode()
    assert f'data-toast-key="jobs:{job.pk}"' in html
    # A toast about several records names none.
    before = last_seq(alice)
    services.post_message(customer=alice, body="One", author=None)
    services.award_points(customer=alice, points=5, description="Two", bonus=True)
    assert "data-toast-key" not in live(client, seqs_of(alice, before)).content.decode()


def test_redeeming_says_what_the_customer_gets_in_their_words(client_for, alice, json_headers):
    answer = client_for(alice).post(reverse("portal:redeem"), {"points": "100"}, **json_headers).json()
    assert answer["ok"] and answer["balance"] == 20
    assert (
        answer["notice"] == "Done: $10.00 off your next appointment for 100 points. You have 20 points left."
    )
    redeemed = LoyaltyTransaction.objects.get(customer=alice, kind="redeemed")
    assert redeemed.description == "$10.00 off your next appointment"
    page = client_for(alice).get(reverse("portal:loyalty")).content.decode()
    assert 'data-point-cents="10"' in page and "Redeem {points} points for ${amount}" in page
    assert "for a reward" not in page


def test_staff_redemption_and_bonus_toasts_use_customer_words(client_for, alice):
    client = client_for(alice)
    before = last_seq(alice)
    services.redeem_points(customer=alice, points=10, description="Gift card by phone")
    html = live(client, seqs_of(alice, before)).content.decode()
    assert "10 points redeemed: Gift card by phone." in html
    before = last_seq(alice)
    services.award_points(customer=alice, points=50, bonus=True, description=QUICK_BONUS_DESCRIPTION)
    html = live(client, seqs_of(alice, before)).content.decode()
    assert "+50 bonus points!" in html and "A thank-you bonus" in html
    assert "staff" not in html.lower()


@pytest.mark.parametrize("name", ["dashboard", "appointments", "invoices", "messages", "loyalty", "profile"])
def test_every_page_shows_the_unread_count_and_points_in_the_nav(client_for, alice, name):
    html = client_for(alice).get(reverse(f"portal:{name}")).content.decode()
    assert '<span id="nav-points" class="nav-points">120<span class="visually-hidden"> points</span>' in html
    assert '<span id="nav-unread-count" class="nav-count">1<' in html
    assert 'id="realtime-state" hidden data-unread="1" data-points="120"' in html
    # Each tab has its full name for screen readers and a short one (hidden from them) for phones.
    assert html.count('class="nav-label"') == 6 and html.count('class="nav-short" aria-hidden="true"') == 6


def test_the_dashboard_shows_the_connection_once_with_the_subscriptions_folded(client_for, alice):
    html = client_for(alice).get(reverse("portal:dashboard")).content.decode()
    # The header's badge, and no other connection status component.
    assert html.count("data-connection-status") == 1 and 'data-variant="badge"' in html
    assert '<details class="subs subs--compact" id="subscription-status" data-state="connecting"' in html
    assert "<summary" in html and "/6 active" in html
    assert html.count('class="subs-item"') == 6


def test_a_profile_change_renames_the_header_everywhere_but_redraws_forms_only_where_shown(client_for, alice):
    client = client_for(alice)
    before = last_seq(alice)
    services.update_contact_details(customer=alice, name="Alice Newname")
    elsewhere = live(client, seqs_of(alice, before), topics="jobs").content.decode()
    assert 'id="header-customer-name"' in elsewhere and "Alice Newname" in elsewhere
    assert 'id="profile-form"' not in elsewhere and 'id="preferences-form"' not in elsewhere
    profile = live(client, seqs_of(alice, before), topics="profile").content.decode()
    assert 'id="profile-form"' in profile and 'id="preferences-form"' in profile
    assert 'id="greeting-name"' in profile

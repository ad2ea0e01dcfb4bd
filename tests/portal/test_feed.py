"""The updates feed, the header bell and the "while you were away" summary (issue 11, items 3-4)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import services
from portal import feed, updates
from realtime import attendance
from realtime.models import OutboxEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]

FEED = "/portal/updates/"


def bell(html: str) -> int:
    found = re.search(r'id="updates-bell"[^>]*data-count="(\d+)"', html)
    assert found, "no bell on the page"
    return int(found.group(1))


def entries(html: str) -> list[int]:
    return [
        int(seq) for seq in re.findall(r'class="row feed-entry[^"]*" id="update-\d+" data-seq="(\d+)"', html)
    ]


def test_feed_lists_significant_changes_newest_first_with_their_sentences_and_links(client_for, alice):
    invoice = alice.invoices.get()
    services.mark_invoice_paid(invoice=invoice)
    services.update_contact_details(customer=alice, phone="+1 555 0199")  # not significant
    html = client_for(alice).get(FEED).content.decode()
    seqs = entries(html)
    assert seqs == sorted(seqs, reverse=True)
    significant = list(updates.significant_events(alice.pk).values_list("seq", flat=True))
    assert seqs == significant and len(seqs) == 5  # scheduled, invoice sent, message, bonus, paid
    # The toasts' own sentence and link for the newest: the payment.
    assert f"Invoice {invoice.number} ($120.50) is paid. Thank you!" in html
    assert f'href="{reverse("portal:invoices")}#invoice-{invoice.pk}"' in html
    assert f'href="{reverse("portal:messages")}#message-{alice.messages.get().pk}"' in html
    assert "+1 555 0199" not in html


def test_feed_pages_with_django_paginator(client_for, alice, settings):
    for n in range(feed.PAGE_SIZE + 3):
        services.post_message(customer=alice, body=f"Note {n}", author=None)
    client = client_for(alice)
    first = entries(client.get(FEED).content.decode())
    second_html = client.get(FEED, {"page": 2}).content.decode()
    second = entries(second_html)
    assert len(first) == feed.PAGE_SIZE and len(second) == 27 - feed.PAGE_SIZE
    assert min(first) > max(second)  # newest first across pages, nothing twice
    assert 'rel="prev" href="?page=1"' in second_html and 'rel="next"' not in second_html
    assert client.get(FEED, {"page": 9}).status_code == 404
    assert client.get(FEED, {"page": "x"}).status_code == 404


def test_feed_reads_the_outbox_within_retention_only(client_for, alice, settings):
    old = OutboxEvent.objects.filter(customer_id=alice.pk, event="message.received").get()
    OutboxEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    settings.REALTIME_RETENTION = 7 * 24 * 3600
    html = client_for(alice).get(FEED).content.decode()
    assert old.seq not in entries(html) and "Hello from the team" not in html


def test_the_bell_counts_changes_since_the_feed_was_opened(client_for, alice):
    client = client_for(alice)
    assert bell(client.get(reverse("portal:appointments")).content.decode()) == 4
    html = client.get(FEED).content.decode()
    assert html.count("feed-entry--new") == 4  # shown as new this once
    alice.refresh_from_db()
    assert alice.updates_seen_seq == updates.newest_seq(alice.pk)
    assert bell(client.get(reverse("portal:loyalty")).content.decode()) == 0
    assert "feed-entry--new" not in client.get(FEED).content.decode()
    services.post_message(customer=alice, body="Are you home on Friday?", author=None)
    services.post_message(customer=alice, body="Thanks!", author=None, direction="to_staff")
    assert bell(client.get(reverse("portal:dashboard")).content.decode()) == 1


def test_opening_the_feed_reaches_other_tabs_as_a_profile_change_that_clears_the_bell(client_for, alice):
    client = client_for(alice)
    before = OutboxEvent.objects.filter(customer_id=alice.pk).order_by("-seq").first().seq
    client.get(FEED)
    seen = OutboxEvent.objects.filter(customer_id=alice.pk, seq__gt=before).get()
    assert (seen.topic, seen.changed) == ("profile", ["updates_seen_seq"])
    # Another tab applies that change frame: the live fragments carry the bell at 0.
    html = client.post(reverse("portal:live"), {"seqs": str(seen.seq)}).content.decode()
    assert 'id="updates-bell"' in html and 'hx-swap-oob="true"' in html and bell(html) == 0
    # Opening it again with nothing new records nothing (no churn of profile events).
    client.get(FEED)
    assert not OutboxEvent.objects.filter(customer_id=alice.pk, seq__gt=seen.seq).exists()


def test_live_fragments_carry_the_bell_count(client_for, alice):
    client = client_for(alice)
    client.get(FEED)
    message = services.post_message(customer=alice, body="New one", author=None)
    seq = OutboxEvent.objects.get(customer_id=alice.pk, topic="messages", object_id=message.pk).seq
    assert bell(client.post(reverse("portal:live"), {"seqs": str(seq)}).content.decode()) == 1


def test_another_customer_sees_nothing_of_alices_updates(client_for, alice, bob):
    services.mark_invoice_paid(invoice=alice.invoices.get())
    client = client_for(bob)
    html = client.get(FEED).content.decode()
    assert entries(html) == [] and "No updates yet" in html and bell(html) == 0
    assert "Hello from the team" not in html and "INV-" not in html
    summary = client.get(reverse("portal:away_summary"), {"after": 0})
    assert summary.status_code == 204
    alice.refresh_from_db()
    assert alice.updates_seen_seq == 0  # Bob's visit marked nothing of Alice's


def test_the_feed_needs_a_login(client):
    response = client.get(FEED)
    assert response.status_code == 302 and "/portal/login/" in response["Location"]


# --- "while you were away" -----------------------------------------------------------------------


def test_away_summary_says_what_arrived_in_words_and_links_to_the_feed(client_for, alice, tomorrow_window):
    client = client_for(alice)
    after = OutboxEvent.objects.filter(customer_id=alice.pk).order_by("-seq").first().seq
    job = alice.jobs.get()
    day = timezone.localtime(job.scheduled_start).strftime("%a %-d %b")
    invoice = alice.invoices.get()
    services.post_message(customer=alice, body="One", author=None)
    services.post_message(customer=alice, body="Two", author=None)
    services.mark_invoice_paid(invoice=invoice)
    start, end = tomorrow_window(days=3)
    services.reschedule_job(job=job, start=start, end=end)
    response = client.get(reverse("portal:away_summary"), {"after": after})
    html = response.content.decode()
    assert response.status_code == 200 and 'hx-swap-oob="beforeend:#toasts"' in html
    assert "While you were away" in html
    assert f"2 new messages · invoice {invoice.number} paid · appointment on {day} moved" in html
    assert f'href="{FEED}"' in html and "data-away-summary" in html


def test_away_summary_leaves_out_what_the_feed_showed_and_muted_categories(client_for, alice):
    client = client_for(alice)
    url = reverse("portal:away_summary")
    assert client.get(url, {"after": 0}).status_code == 200  # four unseen changes
    client.get(FEED)
    assert client.get(url, {"after": 0}).status_code == 204
    services.award_points(customer=alice, points=7, description="Thanks", bonus=True)
    assert "+7 points" in client.get(url, {"after": 0}).content.decode()
    services.update_preferences(customer=alice, preferences={"notify_loyalty": False})
    assert client.get(url, {"after": 0}).status_code == 204


@pytest.mark.parametrize("after", ["", "-1", "x", "1.5", "²", "9" * 5000])
def test_away_summary_rejects_a_bad_seq(client_for, alice, after):
    response = client_for(alice).get(reverse("portal:away_summary"), {"after": after})
    assert response.status_code == 400 and b"after must be a seq" in response.content


def test_first_page_after_a_login_summarises_what_arrived_while_no_tab_was_open(client, alice):
    attendance.record([alice.pk])  # a tab was open until now: what came before was seen
    services.mark_invoice_paid(invoice=alice.invoices.get())
    login = client.post(reverse("portal:login"), {"username": "alice", "password": "pw-for-tests"})
    assert login.status_code == 302
    first = client.get(reverse("portal:dashboard")).content.decode()
    assert "While you were away" in first and f"Invoice {alice.invoices.get().number} paid" in first
    assert "new message" not in first  # arrived while a tab was open
    assert "While you were away" not in client.get(reverse("portal:dashboard")).content.decode()


def test_a_first_login_has_no_summary(client, alice):
    login = client.post(reverse("portal:login"), {"username": "alice", "password": "pw-for-tests"})
    assert login.status_code == 302
    assert "While you were away" not in client.get(reverse("portal:dashboard")).content.decode()

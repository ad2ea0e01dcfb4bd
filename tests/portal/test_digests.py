"""Digest emails for away customers and their unsubscribe links (issue 11, item 5)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from unittest import mock

import pytest
from django.core import mail, signing
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.digest_cursor import DigestCursor
from crm.models import Customer
from portal import digests, unsubscribe
from realtime import attendance
from realtime.models import Attendance

pytestmark = [pytest.mark.usefixtures("require_postgres")]

LATER = dt.timedelta(minutes=11)  # past the default quiet period of 10 minutes


def emails_to(address: str) -> list:
    return [email for email in mail.outbox if email.to == [address]]


@pytest.fixture
def away_alice(make_customer, tomorrow_window):
    """Alice, whose last tab closed five minutes ago: what happens next happens while she is away."""
    customer = make_customer("Alice Example", login="alice")
    start, end = tomorrow_window()
    job = services.schedule_job(customer=customer, service_type="Carpet cleaning", start=start, end=end)
    Attendance.objects.create(
        customer_id=customer.pk, connected_until=timezone.now() - dt.timedelta(minutes=5)
    )
    customer.job = job
    return customer


def staff_activity(customer, tomorrow_window):
    services.post_message(customer=customer, body="We are running late", author=None)
    invoice = services.create_invoice(customer=customer, total="80.00")
    services.send_invoice(invoice=invoice)
    start, end = tomorrow_window(days=4)
    services.reschedule_job(job=customer.job, start=start, end=end)
    services.award_points(customer=customer, points=5, description="Thanks", bonus=True)  # never emailed
    return invoice


@pytest.mark.django_db
def test_one_digest_after_the_quiet_period_with_links_to_the_feed_and_to_unsubscribe(
    away_alice, tomorrow_window
):
    invoice = staff_activity(away_alice, tomorrow_window)
    assert digests.send_due() == 0  # changes just arrived: still gathering
    assert digests.send_due(timezone.now() + LATER) == 1
    [email] = mail.outbox
    assert email.to == ["alice@example.com"]
    assert "1 new message" in email.subject and f"new invoice {invoice.number}" in email.subject
    body = email.body
    assert "We are running late" in body and f"Invoice {invoice.number} for $80.00" in body
    assert "Appointment rescheduled" in body and "Carpet cleaning moved to" in body
    assert "bonus points" not in body  # loyalty is not worth an email
    assert "http://localhost:8000/portal/updates/" in body
    assert f"http://localhost:8000/portal/invoices/#invoice-{invoice.pk}" in body
    for category in ("messages", "invoices", "appointments"):
        assert f"Stop emails about {category}: http://localhost:8000/portal/unsubscribe/" in body
    assert email.extra_headers["List-Unsubscribe"].startswith("<http://localhost:8000/portal/unsubscribe/")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = email.alternatives[0][0]
    assert 'href="http://localhost:8000/portal/updates/"' in html and "We are running late" in html
    # Never twice: the next rounds find nothing new.
    assert digests.send_due(timezone.now() + LATER) == 0
    assert digests.send_due(timezone.now() + 2 * LATER) == 0
    services.post_message(customer=away_alice, body="Still there?", author=None)
    assert digests.send_due(timezone.now() + LATER) == 1
    assert "Still there?" in mail.outbox[-1].body and "We are running late" not in mail.outbox[-1].body


@pytest.mark.django_db
def test_no_digest_while_a_tab_is_open_nor_later_for_what_it_showed(away_alice, tomorrow_window, settings):
    settings.NOTIFY_DIGEST_QUIET_MINUTES = 0
    staff_activity(away_alice, tomorrow_window)
    attendance.record([away_alice.pk])  # a tab is open (the hub's sweep saw it)
    assert digests.send_due() == 0
    assert digests.send_due(timezone.now() + LATER) == 0  # she left afterwards: she saw them
    assert mail.outbox == []


@pytest.mark.django_db
def test_only_for_customers_who_chose_email_and_only_their_categories(
    away_alice, tomorrow_window, make_customer
):
    services.update_preferences(customer=away_alice, preferences={"notify_invoices": False})
    invoice = staff_activity(away_alice, tomorrow_window)
    phone = make_customer("Carol Phone", login="carol")
    services.update_preferences(customer=phone, preferences={"contact_channel": "phone"})
    services.post_message(customer=phone, body="Call me", author=None)
    assert digests.send_due(timezone.now() + LATER) == 1
    [email] = mail.outbox
    assert email.to == ["alice@example.com"] and "We are running late" in email.body
    assert invoice.number not in email.body and "Stop emails about invoices" not in email.body
    # Carol's change is handled (never sent later should she switch to email).
    assert DigestCursor.objects.get(customer=phone).emailed_through > 0


@pytest.mark.django_db
def test_changes_seen_in_the_feed_are_not_emailed(away_alice, tomorrow_window, client):
    staff_activity(away_alice, tomorrow_window)
    client.force_login(away_alice.portal_user)
    client.get(reverse("portal:updates"))
    assert digests.send_due(timezone.now() + LATER) == 0 and mail.outbox == []


@pytest.mark.django_db
def test_another_customer_never_gets_alices_changes(away_alice, tomorrow_window, make_customer):
    bob = make_customer("Bob Example", login="bob")
    staff_activity(away_alice, tomorrow_window)
    services.post_message(customer=bob, body="Hi Bob", author=None)
    assert digests.send_due(timezone.now() + LATER) == 2
    [to_bob] = emails_to("bob@example.com")
    assert "Hi Bob" in to_bob.body and "running late" not in to_bob.body and "INV-" not in to_bob.body
    [to_alice] = emails_to("alice@example.com")
    assert "Hi Bob" not in to_alice.body


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_never_send_one_change_twice(make_customer, tomorrow_window):
    customers = [make_customer(f"Customer{n} Example") for n in range(6)]
    for customer in customers:
        services.post_message(customer=customer, body=f"Hello {customer.name}", author=None)
    now = timezone.now() + LATER
    barrier = threading.Barrier(2)
    real_send = mail.EmailMultiAlternatives.send

    def slow_send(self, *args, **kwargs):
        time.sleep(0.2)  # hold the row lock while the other sender runs
        return real_send(self, *args, **kwargs)

    sent: list[int] = []
    errors: list[BaseException] = []

    def sender():
        try:
            barrier.wait()
            sent.append(digests.send_due(now))
        except BaseException as err:  # surfaced below
            errors.append(err)
        finally:
            connection.close()

    with mock.patch.object(mail.EmailMultiAlternatives, "send", slow_send):
        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors
    assert sum(sent) == 6 and min(sent) > 0  # both worked, on different customers
    assert sorted(email.to[0] for email in mail.outbox) == sorted(c.email for c in customers)
    assert digests.send_due(now) == 0 and len(mail.outbox) == 6


@pytest.mark.django_db
def test_a_failed_send_is_tried_again_next_round(away_alice, tomorrow_window):
    staff_activity(away_alice, tomorrow_window)
    with mock.patch.object(mail.EmailMultiAlternatives, "send", side_effect=OSError("SMTP down")):
        assert digests.send_due(timezone.now() + LATER) == 0
    assert DigestCursor.objects.get(customer=away_alice).emailed_through == 0
    assert digests.send_due(timezone.now() + LATER) == 1


@pytest.mark.django_db
def test_the_command_runs_a_round_and_refuses_a_bad_interval(away_alice, capsys, settings):
    settings.NOTIFY_DIGEST_QUIET_MINUTES = 0
    services.post_message(customer=away_alice, body="Ping", author=None)
    call_command("send_notifications")
    assert "1 digest email(s) sent" in capsys.readouterr().out and len(mail.outbox) == 1
    with pytest.raises(CommandError, match="--interval must be more than 0"):
        call_command("send_notifications", "--loop", "--interval", "0")


# --- unsubscribe ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unsubscribe_asks_first_then_turns_off_that_category_without_a_login(client, away_alice):
    url = unsubscribe.url_for(away_alice.pk, "invoices").removeprefix("http://localhost:8000")
    page = client.get(url)
    assert page.status_code == 200 and b"Stop emails about invoices?" in page.content
    away_alice.refresh_from_db()
    assert away_alice.preferences["notify_invoices"] is True  # a GET changes nothing
    done = Client(enforce_csrf_checks=True).post(url)  # a mail client's one-click POST: no form
    assert done.status_code == 200 and b"data-unsubscribed" in done.content
    away_alice.refresh_from_db()
    assert away_alice.preferences["notify_invoices"] is False
    assert away_alice.preferences["notify_messages"] is True


@pytest.mark.django_db
def test_unsubscribe_rejects_tampered_forged_and_expired_tokens(client, away_alice):
    token = unsubscribe.token_for(away_alice.pk, "messages")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    forged = signing.dumps({"c": away_alice.pk, "t": "messages"}, salt="another.salt")
    wrong_topic = signing.dumps({"c": away_alice.pk, "t": "profile"}, salt=unsubscribe.SALT)
    for bad in (tampered, forged, wrong_topic, "nonsense"):
        response = client.post(reverse("portal:unsubscribe", args=[bad]))
        assert response.status_code == 400 and b"not valid" in response.content
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 91 * 86400):
        response = client.get(reverse("portal:unsubscribe", args=[token]))
    assert response.status_code == 400 and b"has expired" in response.content
    assert Customer.objects.get(pk=away_alice.pk).preferences["notify_messages"] is True

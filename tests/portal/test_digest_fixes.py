"""Review fixes to the digest emails and the updates feed (issue 11, items 3-5)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.models import Customer
from portal import digests
from realtime.models import Attendance

pytestmark = [pytest.mark.usefixtures("require_postgres")]

LATER = dt.timedelta(minutes=11)


def away(customer: Customer) -> Customer:
    Attendance.objects.create(
        customer_id=customer.pk, connected_until=timezone.now() - dt.timedelta(minutes=5)
    )
    return customer


@pytest.mark.django_db
def test_a_deleted_customers_changes_do_not_stop_the_others_digests(make_customer):
    gone = away(make_customer("Gina Gone", login="gina"))
    services.post_message(customer=gone, body="For Gina", author=None)
    Customer.objects.filter(pk=gone.pk).delete()  # her outbox events stay (a plain customer id)
    alice = away(make_customer("Alice Example", login="alice"))
    services.post_message(customer=alice, body="For Alice", author=None)
    assert digests.send_due(timezone.now() + LATER) == 1
    [email] = mail.outbox
    assert email.to == ["alice@example.com"] and "For Alice" in email.body


@pytest.mark.django_db
def test_the_loop_logs_a_failed_round_and_goes_on(capsys, caplog):
    rounds = iter([RuntimeError("database away"), 2])

    def send_due():
        result = next(rounds)
        if isinstance(result, Exception):
            raise result
        return result

    class Stop(Exception):
        pass

    sleeps = iter([None, Stop()])

    def sleep(_seconds):
        result = next(sleeps)
        if result is not None:
            raise result

    with (
        mock.patch.object(digests, "send_due", side_effect=send_due),
        mock.patch("time.sleep", side_effect=sleep),
        pytest.raises(Stop),
    ):
        call_command("send_notifications", "--loop", "--interval", "1")
    assert "2 digest email(s) sent" in capsys.readouterr().out
    assert "digest round failed" in caplog.text


@pytest.mark.django_db
def test_a_head_request_for_the_feed_does_not_mark_updates_seen(client_for, alice):
    client = client_for(alice)
    assert client.head(reverse("portal:updates")).status_code == 200
    alice.refresh_from_db()
    assert alice.updates_seen_seq == 0
    client.get(reverse("portal:updates"))
    alice.refresh_from_db()
    assert alice.updates_seen_seq > 0

"""Review fixes to the digest emails and the updates feed (issue 11, items 3-5)."""

from __future__ import annotations

import datetime as dt
import re
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


def bell(client) -> int:
    found = re.search(
        r'id="updates-bell"[^>]*data-count="(\d+)"', client.get(reverse("portal:dashboard")).content.decode()
    )
    assert found, "no bell on the page"
    return int(found.group(1))


@pytest.mark.django_db
def test_the_customers_own_redemption_is_not_news_to_the_bell_or_the_feed(client_for, alice, json_headers):
    client = client_for(alice)
    client.get(reverse("portal:updates"))  # all caught up
    assert bell(client) == 0
    assert client.post(reverse("portal:redeem"), {"points": "100"}, **json_headers).status_code == 200
    assert bell(client) == 0
    assert "feed-entry--new" not in client.get(reverse("portal:updates")).content.decode()
    # A staff redemption still is news.
    services.redeem_points(customer=alice, points=10, description="Redeemed at the office")
    assert bell(client) == 1


@pytest.mark.django_db
def test_own_redemption_leaves_earlier_unseen_staff_changes_new(client_for, alice, json_headers):
    client = client_for(alice)
    client.get(reverse("portal:updates"))
    services.post_message(customer=alice, body="Are you home on Friday?", author=None)
    client.post(reverse("portal:redeem"), {"points": "100"}, **json_headers)
    assert bell(client) == 1  # the staff message is still unseen; the redemption is not counted
    html = client.get(reverse("portal:updates")).content.decode()
    assert "Are you home on Friday?" in html and html.count("feed-entry--new") == 1


TOPICS = {
    "job": "jobs",
    "invoice": "invoices",
    "message": "messages",
    "loyalty": "loyalty",
    "request": "requests",
    "profile": "profile",
}


@pytest.mark.django_db
def test_the_feed_and_the_toasts_agree_on_what_is_significant(make_customer):
    from portal import toasts, updates
    from realtime.events import Event
    from realtime.models import OutboxEvent

    customer = make_customer("Sig Nificant")
    rows = []
    for seq, name in enumerate(sorted(Event), start=1):
        for direction in ("to_customer", "to_staff"):
            rows.append(
                OutboxEvent(
                    customer_id=customer.pk + 10_000,
                    seq=len(rows) + 1,
                    topic=TOPICS[name.split(".")[0]],
                    op="update",
                    event=name,
                    object_id=seq,
                    new={"direction": direction, "points": 5, "number": "INV-1"},
                    created_at=timezone.now(),
                )
            )
    OutboxEvent.objects.bulk_create(rows)
    in_sql = set(OutboxEvent.objects.filter(updates.SIGNIFICANT).values_list("seq", flat=True))
    toasting = {row.seq for row in rows if toasts.significant(row) is not None}
    assert in_sql == toasting and toasting
    # Every significant kind has words in the away summary too.
    for row in rows:
        if row.seq in toasting:
            assert updates.summary([row]), row.event


@pytest.mark.django_db
def test_one_click_unsubscribe_stops_every_digest_email_but_no_portal_notification(make_customer):
    from django.test import Client

    from crm import notifications

    alice = away(make_customer("Alice Example", login="alice"))
    services.post_message(customer=alice, body="First", author=None)
    invoice = services.create_invoice(customer=alice, total="10.00")
    services.send_invoice(invoice=invoice)
    assert digests.send_due(timezone.now() + LATER) == 1
    [email] = mail.outbox
    header = email.extra_headers["List-Unsubscribe"].strip("<>")
    assert f"Stop all these emails: {header}" in email.body
    done = Client(enforce_csrf_checks=True).post(header.removeprefix("http://localhost:8000"))
    assert done.status_code == 200 and b"data-unsubscribed" in done.content
    alice.refresh_from_db()
    assert alice.preferences["email_digests"] is False
    assert notifications.muted_topics(alice) == frozenset()  # pop-ups in the portal stay on
    services.post_message(customer=alice, body="Second", author=None)
    services.send_invoice(invoice=services.create_invoice(customer=alice, total="20.00"))
    assert digests.send_due(timezone.now() + LATER * 2) == 0 and len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_profile_shows_the_email_switch_on_for_a_customer_who_never_set_it(client_for, alice):
    Customer.objects.filter(pk=alice.pk).update(preferences={"contact_channel": "email"})
    html = client_for(alice).get(reverse("portal:profile")).content.decode()
    found = re.search(r'<input type="checkbox" name="email_digests"[^>]*>', html)
    assert found and "checked" in found.group(0)


@pytest.mark.django_db
def test_an_appointment_scheduled_then_moved_while_away_reads_as_new_on_its_latest_day(
    make_customer, tomorrow_window
):
    from portal import updates
    from realtime.models import OutboxEvent

    alice = make_customer("Alice Example")
    start, end = tomorrow_window()
    job = services.schedule_job(customer=alice, service_type="Carpet cleaning", start=start, end=end)
    moved_start, moved_end = tomorrow_window(days=4)
    services.reschedule_job(job=job, start=moved_start, end=moved_end)
    new_day = timezone.localtime(moved_start).strftime("%a %-d %b")
    events = list(OutboxEvent.objects.filter(customer_id=alice.pk, topic="jobs").order_by("seq"))
    assert updates.summary(events) == f"New appointment on {new_day}"
    # Moved without having been scheduled in this set: named by the day it was on.
    old_day = timezone.localtime(start).strftime("%a %-d %b")
    assert updates.summary(events[1:]) == f"Appointment on {old_day} moved"


@pytest.mark.django_db
def test_opening_the_feed_files_no_inbox_item_and_sends_staff_nothing(client_for, alice):
    """Opening the feed saves `updates_seen_seq` (a profile change for the customer's tabs): not a
    contact-detail change for staff, so no inbox item and no staff stream change (the admin's
    "changed … reload" notice comes only from an inbox item)."""
    from crm.models import InboxItem, StaffEvent

    def counts() -> tuple[int, int]:
        return InboxItem.objects.count(), StaffEvent.objects.count()

    before = counts()
    client_for(alice).get(reverse("portal:updates"))
    alice.refresh_from_db()
    assert alice.updates_seen_seq > 0 and counts() == before
    # A real contact change does reach staff: the counts above could have moved.
    services.customer_contact_change(customer=alice, phone="+1 555 0199")
    assert counts()[0] == before[0] + 1 and counts()[1] > before[1]

"""The customer's updates: the significant changes in the outbox, read for the feed, the bell,
the "while you were away" summary and the digest emails.

Significant means what toasts (`portal.toasts.significant`): the same SQL filter here, and the
same sentences there. Only events within the outbox's retention are read.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q, QuerySet, Subquery
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime

from crm import notifications, services
from crm.models import Customer
from portal.toasts import TOASTING
from realtime.events import Event
from realtime.models import OutboxEvent

SIGNIFICANT = Q(event__in=sorted(TOASTING)) | Q(event=Event.MESSAGE_RECEIVED, new__direction="to_customer")

# Worth an email to a customer who is away (issue 11): a message from staff, an invoice sent or
# overdue, an appointment moved or cancelled.
EMAILED = Q(
    event__in=(
        Event.INVOICE_CREATED,
        Event.INVOICE_SENT,
        Event.INVOICE_OVERDUE,
        Event.JOB_RESCHEDULED,
        Event.JOB_CANCELLED,
    )
) | Q(event=Event.MESSAGE_RECEIVED, new__direction="to_customer")

# A topic's preference flag ("notify me about…"), from the one place that decides muting.
CATEGORIES = {topic: flag for flag, topic in notifications.CATEGORIES.values()}
CATEGORY_NAMES = {
    "jobs": "appointments",
    "invoices": "invoices",
    "messages": "messages",
    "loyalty": "loyalty points",
}


def significant_events(customer_id: int) -> QuerySet[OutboxEvent]:
    """The customer's significant changes within retention, newest first."""
    oldest = timezone.now() - dt.timedelta(seconds=settings.REALTIME_RETENTION)
    return (
        OutboxEvent.objects.filter(customer_id=customer_id, created_at__gte=oldest)
        .filter(SIGNIFICANT)
        .order_by("-seq")
    )


def unseen_count(customer_id: int, own: Iterable[tuple[str, int]] = ()) -> int:
    """The bell's number: significant changes since the customer last opened the feed (one query),
    leaving out `own`, the changes this session made itself (`portal.own_changes`)."""
    seen = Customer.objects.filter(pk=customer_id).values("updates_seen_seq")
    events = significant_events(customer_id).filter(seq__gt=Subquery(seen))
    for topic, object_id in own:
        events = events.exclude(topic=topic, object_id=object_id)
    return events.count()


def skip_own(customer_id: int, topic: str, object_id: int) -> None:
    """Keep a change the customer made themselves (a portal redemption) out of the bell and the
    feed's "New": move their seen mark past it when everything before it was seen already.

    Seqs commit in order, so once the change is committed nothing below it can still arrive.
    """
    own = (
        OutboxEvent.objects.filter(customer_id=customer_id, topic=topic, object_id=object_id)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    customer = Customer.objects.filter(pk=customer_id).first()
    if own is None or customer is None:
        return
    if not significant_events(customer_id).filter(seq__gt=customer.updates_seen_seq, seq__lt=own).exists():
        services.mark_updates_seen(customer=customer, seq=own)


def newest_seq(customer_id: int) -> int:
    """The seq of the customer's newest significant change (0 for none)."""
    return significant_events(customer_id).values_list("seq", flat=True).first() or 0


# --- the summary: "2 new messages · invoice INV-2026-00004 paid · appointment on Thu 3 Dec moved"

MAX_PARTS = 4


def _day(value: object) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else None
    return formats.date_format(timezone.localtime(moment), "D j M") if moment else ""


def _job_phrase(event: OutboxEvent, *, new: bool = False) -> str:
    row = event.new or {}
    # Scheduled while away, then changed: still news of a new appointment, on its latest day.
    new = new and event.event != Event.JOB_CANCELLED
    # A moved appointment is named by the day it was on: the one the customer remembers.
    when = _day(
        (event.old or row).get("scheduled_start")
        if event.event == Event.JOB_RESCHEDULED and not new
        else row.get("scheduled_start")
    )
    on = f" on {when}" if when else ""
    if event.event == Event.JOB_SCHEDULED or new:
        return f"new appointment{on}"
    if event.event == Event.JOB_RESCHEDULED:
        return f"appointment{on} moved"
    if event.event == Event.JOB_CANCELLED:
        return f"appointment{on} cancelled"
    if event.event == Event.JOB_COMPLETED:
        return f"appointment{on} completed"
    return f"appointment{on} updated"


def _invoice_phrase(event: OutboxEvent) -> str:
    number = (event.new or {}).get("number", "")
    if event.event == Event.INVOICE_PAID:
        return f"invoice {number} paid"
    if event.event == Event.INVOICE_OVERDUE:
        return f"invoice {number} overdue"
    return f"new invoice {number}"


def summary(events: Iterable[OutboxEvent]) -> str:
    """A few words for a set of significant changes, the latest state of each record once."""
    latest: dict[tuple[str, int], OutboxEvent] = {}
    scheduled: set[tuple[str, int]] = set()
    for event in sorted(events, key=lambda e: e.seq):
        latest[(event.topic, event.object_id)] = event
        if event.event == Event.JOB_SCHEDULED:
            scheduled.add((event.topic, event.object_id))
    if not latest:
        return ""
    counts: Counter[str] = Counter()
    points = 0
    phrases: list[str] = []
    for event in latest.values():
        if event.topic == "messages":
            counts["message"] += 1
        elif event.topic == "loyalty":
            points += int((event.new or {}).get("points", 0))
        elif event.topic == "jobs":
            phrases.append(_job_phrase(event, new=(event.topic, event.object_id) in scheduled))
        elif event.topic == "invoices":
            phrases.append(_invoice_phrase(event))
        elif event.event in (Event.REQUEST_ACCEPTED, Event.REQUEST_DECLINED):
            phrases.append(f"request {'accepted' if event.event == Event.REQUEST_ACCEPTED else 'declined'}")
    parts = []
    if counts["message"]:
        parts.append(f"{counts['message']} new message{'' if counts['message'] == 1 else 's'}")
    parts += phrases
    if points:
        parts.append(f"{points:+d} points")
    if len(parts) > MAX_PARTS:
        parts = [*parts[: MAX_PARTS - 1], f"{len(parts) - MAX_PARTS + 1} more updates"]
    text = " · ".join(parts)
    return text[:1].upper() + text[1:]

"""Reads the portal pages and the live fragments share: what one customer sees.

Every query filters on the customer and on the registry's visibility rule, so a view that asks
here cannot show another customer's row or a draft invoice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils.dateparse import parse_datetime

from crm.models import AppointmentRequest, CalendarFeed, Customer, Invoice, Job, LoyaltyTransaction, Message
from realtime import registry

_FINISHED = Q(status__in=Job.FINISHED)
# Invoices the customer still owes: the amount due is their total.
_DUE = (Invoice.Status.SENT, Invoice.Status.OVERDUE)


def _visible(topic: str, customer_id: int) -> QuerySet[Any]:
    entry = registry.for_topic(topic)
    assert entry is not None, f"topic {topic!r} is not registered"  # noqa: S101  (startup wiring)
    return entry.visible_rows(customer_id)


def _job_rows(customer_id: int) -> QuerySet[Job]:
    """Jobs as rows show them: with their latest request (portal/_job_request.html), one query."""
    latest_first = AppointmentRequest.objects.order_by("-created_at", "-id")
    prefetch = Prefetch("requests", queryset=latest_first, to_attr="request_list")
    return _visible("jobs", customer_id).prefetch_related(prefetch)


def customer(customer_id: int) -> Customer:
    found: Customer = _visible("profile", customer_id).get()
    return found


def is_past_job(job: Job, now: dt.datetime) -> bool:
    """Past: finished, or its time is over. The appointments page splits on this."""
    return job.status in Job.FINISHED or job.scheduled_end < now


def upcoming_jobs(customer_id: int, now: dt.datetime, limit: int | None = None) -> list[Job]:
    rows = _job_rows(customer_id).exclude(_FINISHED).filter(scheduled_end__gte=now)
    rows = rows.order_by("scheduled_start", "id")
    return list(rows[:limit] if limit else rows)


def past_jobs(customer_id: int, now: dt.datetime, limit: int | None = None) -> list[Job]:
    rows = _job_rows(customer_id).filter(_FINISHED | Q(scheduled_end__lt=now))
    rows = rows.order_by("-scheduled_start", "-id")
    return list(rows[:limit] if limit else rows)


def invoices(customer_id: int, limit: int | None = None) -> list[Invoice]:
    rows = _visible("invoices", customer_id)
    return list(rows[:limit] if limit else rows)


def amount_due(customer_id: int) -> str:
    total = _visible("invoices", customer_id).filter(status__in=_DUE).aggregate(total=Sum("total"))["total"]
    return f"{total or 0:.2f}"


def invoice(customer_id: int, invoice_id: int) -> Invoice | None:
    """One of the customer's visible invoices (never a draft), with its job."""
    found: Invoice | None = (
        _visible("invoices", customer_id).select_related("job").filter(pk=invoice_id).first()
    )
    return found


def invoice_amount_due(invoice: Invoice) -> str:
    """What is still to pay on one invoice: its total while sent or overdue, else nothing."""
    return f"{invoice.total if invoice.status in _DUE else 0:.2f}"


def job(customer_id: int, job_id: int) -> Job | None:
    found: Job | None = _visible("jobs", customer_id).filter(pk=job_id).first()
    return found


def calendar_jobs(customer_id: int, ended_after: dt.datetime) -> list[Job]:
    """The jobs a calendar feed lists: every one ending after `ended_after`, cancelled ones too."""
    return list(_visible("jobs", customer_id).filter(scheduled_end__gt=ended_after))


def calendar_feed(customer_id: int) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(customer_id=customer_id).first()


def messages(customer_id: int, latest: int | None = None) -> list[Message]:
    """The thread, oldest first; with `latest`, only the last few."""
    rows = _visible("messages", customer_id)
    if latest:
        return list(reversed(rows.order_by("-created_at", "-id")[:latest]))
    return list(rows)


def unread_count(customer_id: int) -> int:
    return (
        _visible("messages", customer_id)
        .filter(direction=Message.Direction.TO_CUSTOMER, read_at__isnull=True)
        .count()
    )


def loyalty_transactions(customer_id: int, limit: int | None = None) -> list[LoyaltyTransaction]:
    rows = _visible("loyalty", customer_id)
    return list(rows[:limit] if limit else rows)


def points_balance(customer_id: int) -> int:
    return _visible("loyalty", customer_id).aggregate(total=Sum("points"))["total"] or 0


def rows_by_id(topic: str, customer_id: int, ids: Iterable[int]) -> dict[int, object]:
    """The customer's currently visible rows among `ids`; a missing id is gone or hidden."""
    rows = _job_rows(customer_id) if topic == "jobs" else _visible(topic, customer_id)
    return {row.pk: row for row in rows.filter(pk__in=list(ids))}


def message_for_customer(customer_id: int, message_id: int) -> Message | None:
    return _visible("messages", customer_id).filter(pk=message_id).first()


# --- pages of a long list ("Show older") -----------------------------------------------------


MAX_ID = 2**63 - 1  # the largest id a bigint column holds: a larger one was a 500 (DataError)


@dataclass(frozen=True)
class Cursor:
    """Where a page of a newest-first list ends: rows strictly older than this one come next."""

    created_at: dt.datetime
    pk: int

    @classmethod
    def of(cls, row: Any) -> Cursor:
        return cls(row.created_at, row.pk)

    @classmethod
    def parse(cls, before: str | None, pk: str | None) -> Cursor | None:
        """From a query string's `before` (ISO 8601 with offset) and `id`; None if malformed."""
        try:
            moment = parse_datetime(before or "")
        except ValueError:  # well formed, not a date (month 13)
            return None
        if moment is None or moment.tzinfo is None or not (pk or "").isdigit():
            return None
        try:
            moment = moment.astimezone(dt.UTC)  # a time the database can hold
        except OverflowError:
            return None
        number = int(pk or 0)
        return cls(moment, number) if number <= MAX_ID else None

    @property
    def query(self) -> str:
        return urlencode({"before": self.created_at.isoformat(), "id": self.pk})


@dataclass(frozen=True)
class Page:
    rows: list[Any]  # newest first
    older: Cursor | None  # None: nothing older


PAGED_TOPICS = ("messages", "invoices", "loyalty")


def latest(topic: str, customer_id: int, size: int, before: Cursor | None = None) -> Page:
    """The newest `size` rows of a topic (older than `before` if given), in one query."""
    if topic not in PAGED_TOPICS:  # only these lists have created_at
        raise ValueError(f"{topic!r} is not a paged list; pages exist for {PAGED_TOPICS}.")
    rows = _visible(topic, customer_id)
    if before is not None:
        rows = rows.filter(
            Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, pk__lt=before.pk)
        )
    found = list(rows.order_by("-created_at", "-id")[: size + 1])
    return Page(found[:size], Cursor.of(found[size - 1]) if len(found) > size else None)

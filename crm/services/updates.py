"""What the customer has seen of their updates, and how far their digest emails have got."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import transaction

from crm.digest_cursor import DigestCursor
from crm.models import Customer
from crm.services.errors import DomainError
from realtime.capture import lock


@transaction.atomic
def mark_updates_seen(*, customer: Customer, seq: int) -> bool:
    """Move the customer's "seen in the feed" mark forward to `seq` (never back).

    True if it moved. The save is a profile change, so every open tab hears of it and clears
    its bell.
    """
    if seq < 0:
        raise DomainError("A seq is never negative.", code="bad_seq")
    customer = lock(Customer, customer.pk)
    if seq <= customer.updates_seen_seq:
        return False
    customer.updates_seen_seq = seq
    customer.save(update_fields=["updates_seen_seq"])
    return True


def open_digest_cursors(customer_ids: Iterable[int]) -> None:
    """Make sure these customers have a digest cursor row to lock (starting at seq 0)."""
    DigestCursor.objects.bulk_create(
        [DigestCursor(customer_id=customer_id) for customer_id in set(customer_ids)], ignore_conflicts=True
    )


@contextmanager
def claimed_digest(customer_id: int) -> Iterator[DigestCursor | None]:
    """One transaction holding this customer's digest cursor, or None if another sender holds it.

    `SKIP LOCKED`: a second sender moves on to other customers instead of waiting, and the row
    it then reads on its next round already carries the first sender's progress.
    """
    with transaction.atomic():
        yield DigestCursor.objects.select_for_update(skip_locked=True).filter(customer_id=customer_id).first()


def advance_digest(*, cursor: DigestCursor, through: int, sent_at: dt.datetime | None) -> None:
    """Record that changes up to `through` are handled (inside `claimed_digest`'s transaction)."""
    if through <= cursor.emailed_through:
        return
    cursor.emailed_through = through
    fields = ["emailed_through"]
    if sent_at is not None:
        cursor.last_sent_at = sent_at
        fields.append("last_sent_at")
    cursor.save(update_fields=fields)

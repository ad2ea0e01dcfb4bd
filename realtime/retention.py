"""Retention: the outbox keeps a bounded window of events (settings.REALTIME_RETENTION)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from realtime.models import CustomerSequence, OutboxEvent

PRUNE_BATCH = 5000


def prune(*, now: dt.datetime | None = None, retention_seconds: int | None = None) -> int:
    """Delete events older than the window; returns how many. Cheap when there is nothing to do.

    Each batch first raises `pruned_through` for the customers it touches, in the same
    transaction, so a socket asking for a pruned seq is told to resync instead of missing it.
    """
    retention = settings.REALTIME_RETENTION if retention_seconds is None else retention_seconds
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=retention)
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                OutboxEvent.objects.filter(created_at__lt=cutoff)
                .order_by("id")
                .values_list("id", flat=True)[:PRUNE_BATCH]
            )
            if not ids:
                return total
            batch = OutboxEvent.objects.filter(id__in=ids)
            for row in batch.values("customer_id").annotate(through=Max("seq")).order_by("customer_id"):
                CustomerSequence.objects.filter(
                    customer_id=row["customer_id"], pruned_through__lt=row["through"]
                ).update(pruned_through=row["through"])
            total += batch.delete()[0]

"""Retention: the outbox keeps a bounded window of events (settings.REALTIME_RETENTION)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from realtime.models import CustomerSequence, OutboxEvent

PRUNE_CUSTOMERS = 500


def prune(*, now: dt.datetime | None = None, retention_seconds: int | None = None) -> int:
    """Delete events older than the window; returns how many. Cheap when there is nothing to do.

    A customer's events go as a prefix: everything up to the newest expired seq, so the kept
    events stay contiguous even if `created_at` (each writer's clock) disagrees with seq order.
    Each batch raises `pruned_through` in the same transaction, so a socket asking for a pruned
    seq is told to resync instead of missing it.
    """
    retention = settings.REALTIME_RETENTION if retention_seconds is None else retention_seconds
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=retention)
    total = 0
    while True:
        with transaction.atomic():
            expired = list(
                OutboxEvent.objects.filter(created_at__lt=cutoff)
                .values("customer_id")
                .annotate(through=Max("seq"))
                .order_by("customer_id")
                .values_list("customer_id", "through")[:PRUNE_CUSTOMERS]
            )
            if not expired:
                return total
            prefixes = Q()
            for customer_id, through in expired:
                CustomerSequence.objects.filter(customer_id=customer_id, pruned_through__lt=through).update(
                    pruned_through=through
                )
                prefixes |= Q(customer_id=customer_id, seq__lte=through)
            total += OutboxEvent.objects.filter(prefixes).delete()[0]

"""Snapshots that know their `seq`: read data and the customer's sequence in one view of the
database, so subscribing with `since` = that seq neither misses nor repeats a change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from realtime import sequence


@contextmanager
def consistent_read(customer_id: int) -> Iterator[int]:
    """Yield the customer's current seq; queries inside the block see exactly that state.

    PostgreSQL: a REPEATABLE READ transaction, so every query reads one MVCC snapshot.
    SQLite: one transaction is already one snapshot. Inside an outer transaction (a test, or
    ATOMIC_REQUESTS) the outer transaction's isolation applies.
    """
    outer = connection.in_atomic_block
    if not outer:
        # Connect (and run Django's connection health check) now: a health-check query inside
        # the block would start the transaction before SET TRANSACTION could.
        connection.cursor().close()
    with transaction.atomic():
        if connection.vendor == "postgresql" and not outer:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        last_seq, _pruned = sequence.current(customer_id)
        yield last_seq

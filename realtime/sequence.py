"""Per-customer sequence numbers, taken inside the writer's transaction."""

from __future__ import annotations

from django.db import connections

from realtime.models import CustomerSequence

_table = CustomerSequence._meta.db_table

# An upsert that works on PostgreSQL and SQLite (>= 3.35). Updating the row takes its lock
# until commit, which is what orders concurrent writers to one customer.
_TAKE_SQL = (
    f"INSERT INTO {_table} (customer_id, last_seq, pruned_through) VALUES (%s, %s, 0) "  # noqa: S608
    f"ON CONFLICT (customer_id) DO UPDATE SET last_seq = {_table}.last_seq + EXCLUDED.last_seq "
    "RETURNING last_seq"
)


def take(customer_id: int, count: int = 1, *, using: str = "default") -> range:
    """Reserve `count` consecutive numbers for this customer; returns them in order."""
    with connections[using].cursor() as cursor:
        cursor.execute(_TAKE_SQL, [customer_id, count])
        last = cursor.fetchone()[0]
    return range(last - count + 1, last + 1)


def current(customer_id: int) -> tuple[int, int]:
    """(last seq, pruned through) for this customer; (0, 0) before its first event."""
    row = (
        CustomerSequence.objects.filter(customer_id=customer_id)
        .values_list("last_seq", "pruned_through")
        .first()
    )
    return row or (0, 0)

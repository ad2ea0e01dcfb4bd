"""Per-customer sequence numbers, taken inside the writer's transaction."""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

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


def with_position(customers: QuerySet[Any]) -> tuple[int, int, int] | None:
    """(customer id, last seq, pruned through) of the query's first customer, in one query."""
    counter = CustomerSequence.objects.filter(customer_id=OuterRef("pk"))
    row = (
        customers.annotate(
            last_seq=Coalesce(Subquery(counter.values("last_seq")[:1]), Value(0)),
            pruned_through=Coalesce(Subquery(counter.values("pruned_through")[:1]), Value(0)),
        )
        .values_list("pk", "last_seq", "pruned_through")
        .first()
    )
    return (int(row[0]), int(row[1]), int(row[2])) if row is not None else None

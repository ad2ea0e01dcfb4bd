"""Per-customer sequence numbers, taken inside the writer's transaction."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from realtime.models import CustomerSequence, OutboxEvent

_table = CustomerSequence._meta.db_table

# An upsert that works on PostgreSQL and SQLite (>= 3.35). Updating the row takes its lock
# until commit, which is what orders concurrent writers to one customer.
_TAKE_SQL = (
    f"INSERT INTO {_table} (customer_id, last_seq, pruned_through) VALUES (%s, %s, 0) "  # noqa: S608
    f"ON CONFLICT (customer_id) DO UPDATE SET last_seq = {_table}.last_seq + EXCLUDED.last_seq "
    "RETURNING last_seq"
)

# The same upsert, taking numbers only when the CTE `u` (an UPDATE) returned a row.
_TAKE_IF_UPDATED_SQL = _TAKE_SQL.replace("VALUES (%s, %s, 0)", "SELECT %s, %s, 0 FROM u")


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


_OUTBOX = OutboxEvent._meta.db_table
_COLUMNS = "customer_id, seq, topic, op, event, object_id, new, old, changed, created_at"


def append(customer_id: int, events: list[OutboxEvent], *, using: str = "default") -> None:
    """Number these unsaved events with the customer's next seqs and insert them.

    On PostgreSQL the sequence upsert and the inserts are one statement (one round trip in the
    writer's transaction); elsewhere, the upsert and then a bulk insert.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        for seq, event in zip(take(customer_id, len(events), using=using), events, strict=True):
            event.seq = seq
        OutboxEvent.objects.using(using).bulk_create(events)
        return
    sql, params = _appending(f"WITH s AS ({_TAKE_SQL}) ", [customer_id, len(events)], customer_id, events)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        stored(customer_id, events, cursor.fetchall(), using=using)


def with_update(
    update_sql: str, update_params: list[Any], customer_id: int, events: list[OutboxEvent]
) -> tuple[str, list[Any]]:
    """One statement (PostgreSQL) that runs a single-row `UPDATE ... WHERE pk = %s` and, only if
    it changed a row, numbers and inserts these events for that row's customer: the writer's
    update and its outbox events in one round trip. It returns one (id, seq) row per event, so
    its row count is 0 when the UPDATE matched nothing, as the bare UPDATE's would be."""
    prefix = f"WITH u AS ({update_sql} RETURNING 1), s AS ({_TAKE_IF_UPDATED_SQL}) "
    return _appending(prefix, [*update_params, customer_id, len(events)], customer_id, events)


def _appending(
    prefix: str, prefix_params: list[Any], customer_id: int, events: list[OutboxEvent]
) -> tuple[str, list[Any]]:
    """The outbox insert numbered from the CTE `s` (the customer's last seq after taking
    len(events)) that `prefix` defines."""
    values = ", ".join(
        ["(%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb, %s::timestamptz)"] * len(events)
    )
    sql = (
        f"{prefix}INSERT INTO {_OUTBOX} ({_COLUMNS}) "  # noqa: S608  (placeholders only)
        f"SELECT %s, s.last_seq - %s + v.n, v.topic, v.op, v.event, v.object_id, v.new, v.old, v.changed, v.created_at "
        f"FROM s, (VALUES {values}) AS v(n, topic, op, event, object_id, new, old, changed, created_at) "
        "ORDER BY v.n RETURNING id, seq"
    )
    params: list[Any] = [*prefix_params, customer_id, len(events)]
    for n, event in enumerate(events, start=1):
        params += [n, event.topic, event.op, event.event, event.object_id, _json(event.new), _json(event.old)]
        params += [_json(event.changed), event.created_at]
    return sql, params


def stored(customer_id: int, events: list[OutboxEvent], rows: list[tuple[int, int]], *, using: str) -> None:
    """Mark the events as the inserted rows: the (id, seq) pairs the outbox statement returned
    (`append`'s or `with_update`'s)."""
    by_seq = {seq: pk for pk, seq in rows}
    first = max(by_seq) - len(events) + 1
    for seq, event in enumerate(events, start=first):
        event.customer_id, event.seq, event.pk = customer_id, seq, by_seq[seq]
        event._state.adding, event._state.db = False, using


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, cls=DjangoJSONEncoder)

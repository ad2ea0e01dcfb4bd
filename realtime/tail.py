"""The hub tailer's reads: which customers have changes past a floor seq, and those changes,
for many customers at once in one statement each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from realtime.models import CustomerSequence, OutboxEvent
from realtime.protocol import ChangeFrame

TAIL_LIMIT = 5000  # events per read; the rest come at the next interval
_SQLITE_CHUNK = 10_000  # customers per statement (two parameters each; SQLite allows 32,766)


@dataclass(frozen=True)
class TailedEvent:
    customer_id: int
    frame: ChangeFrame
    recorded_at: float  # the event's `created_at`, as a Unix time


def _joined(table: str, condition: str, floors: dict[int, int], tail: str) -> list[tuple[str, list[Any]]]:
    """Statements selecting `table` rows (alias t) joined to the floors (alias f, columns
    customer_id and seq) on `condition`: one on PostgreSQL, chunks on SQLite."""
    if connection.vendor == "postgresql":
        # Two arrays whatever the number of customers: a short statement, one index probe each.
        join = "unnest(%s::bigint[], %s::bigint[]) AS f(customer_id, seq)"
        sql = f"SELECT t.* FROM {table} t JOIN {join} ON {condition} {tail}"  # noqa: S608  (no input)
        return [(sql, [list(floors), list(floors.values())])]
    items = list(floors.items())
    statements = []
    for start in range(0, len(items), _SQLITE_CHUNK):
        chunk = items[start : start + _SQLITE_CHUNK]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        sql = (
            f"WITH f(customer_id, seq) AS (VALUES {values}) "  # noqa: S608  (placeholders only)
            f"SELECT t.* FROM {table} t JOIN f ON {condition} {tail}"
        )
        statements.append((sql, [value for pair in chunk for value in pair]))
    return statements


def lagging(floors: dict[int, int]) -> dict[int, int]:
    """customer -> latest seq, for the customers whose latest seq is above their floor."""
    found: dict[int, int] = {}
    for sql, params in _joined(
        CustomerSequence._meta.db_table, "t.customer_id = f.customer_id AND t.last_seq > f.seq", floors, ""
    ):
        found.update((row.customer_id, row.last_seq) for row in CustomerSequence.objects.raw(sql, params))
    return found


def events_after(floors: dict[int, int], limit: int = TAIL_LIMIT) -> list[TailedEvent]:
    """Events with seq above their customer's floor, in (customer, seq) order, at most `limit`."""
    rows: list[OutboxEvent] = []
    for sql, params in _joined(
        OutboxEvent._meta.db_table,
        "t.customer_id = f.customer_id AND t.seq > f.seq",
        floors,
        "ORDER BY t.customer_id, t.seq LIMIT %s",
    ):
        rows += OutboxEvent.objects.raw(sql, [*params, limit - len(rows)])
        if len(rows) >= limit:
            break
    return [TailedEvent(row.customer_id, row.as_frame(), row.created_at.timestamp()) for row in rows]

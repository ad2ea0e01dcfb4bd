"""Rows loaded for a write with `lock`, and their saves: the UPDATE extended with its events."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, models, router

from realtime import registry, sequence
from realtime.transitions import BEFORE, RowView, Transition, batches, entry_for, publish_on_commit, row_view

LOCKED = "_realtime_locked"  # on an instance loaded with `lock`: the _Locked note
FUSED = "_realtime_fused"  # the save's UPDATE wrote its outbox events too (`fused_update`)
OLD_USER = "_realtime_old_user"  # on a customer being saved: its login before the write

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Locked:
    # The connection's list of on-commit hooks: Django replaces it when a transaction ends (or
    # rolls back to a savepoint), so the same object means the lock is still held.
    transaction: list[Any]
    view: RowView
    owner_user: Any


def lock(model: type[M], pk: Any, *, using: str | None = None) -> M:
    """The row, locked FOR NO KEY UPDATE until the transaction ends, with the customer's view of
    it noted: saving it in the same transaction then needs no second read of the stored row.

    Services load what they change through this (inside `transaction.atomic`)."""
    db = using or router.db_for_write(model)
    obj = model._default_manager.using(db).select_for_update(no_key=True).get(pk=pk)
    entry = entry_for(model)
    if entry is not None:
        owner = registry.owner()
        owner_user = getattr(obj, f"{owner.user_field}_id") if model is owner.model else None
        obj.__dict__[LOCKED] = Locked(connections[db].run_on_commit, row_view(entry, obj), owner_user)
    return obj


def fused_update(instance: models.Model, using: str) -> contextlib.AbstractContextManager[Any]:
    """Around `save()` of a row loaded with `lock` (on PostgreSQL): its UPDATE and its outbox
    events go to the database as one statement, a round trip less per save.

    The events need the row after the UPDATE, which Django has fully computed (auto_now
    included) when it runs the statement, so the statement is extended as it runs: the first
    single-row UPDATE of this row during the save, which is Django's own unless a pre_save
    receiver updates the same row itself. Anything else (an insert, another statement shape, a
    change that moves the row between customers) runs as before, and post_save records its
    events."""
    noted = instance.__dict__.get(LOCKED)
    connection = connections[using]
    if (
        not isinstance(noted, Locked)
        or noted.transaction is not connection.run_on_commit
        or connection.vendor != "postgresql"
    ):
        return contextlib.nullcontext()
    entry = entry_for(type(instance))
    if entry is None:
        return contextlib.nullcontext()
    meta = instance._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    statement_start = f"UPDATE {table} SET "  # noqa: S608  (matched, not run)
    statement_end = f" WHERE {table}.{quote(str(meta.pk.column))} = %s"
    done = False

    def extend_update(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        nonlocal done
        if (
            done
            or many
            or not sql.startswith(statement_start)
            or not sql.endswith(statement_end)
            or not params
            or params[-1] != instance.pk
        ):
            return execute(sql, params, many, context)
        done = True
        before = instance.__dict__.get(BEFORE)
        transition = Transition(entry, instance.pk, before, row_view(entry, instance))
        by_customer = batches([transition])
        if len(by_customer) != 1:  # nothing visible moved, or the row changed customers
            return execute(sql, params, many, context)
        [(customer_id, batch)] = by_customer.items()
        fused_sql, fused_params = sequence.with_update(sql, list(params), customer_id, batch)
        result = execute(fused_sql, fused_params, many, context)
        rows = context["cursor"].fetchall()
        if rows:  # no row: the UPDATE matched nothing, and Django raises as it would without us
            sequence.stored(customer_id, batch, rows, using=using)
            publish_on_commit(customer_id, batch, using)
            instance.__dict__[FUSED] = True
        return result

    return connection.execute_wrapper(extend_update)

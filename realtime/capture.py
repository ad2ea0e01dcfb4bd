"""Capture: turn saves and deletes of registered models into outbox events.

Receivers stay thin: they note the customer's view of the row before and after, and
`record_transitions` writes the events in the writer's own transaction and schedules the
publish for after commit. A rolled-back transaction therefore leaves no event and sends nothing.
Synced models save inside a transaction (`realtime.models.TransactionalSave`), so the event
commits with the row; `record_transitions` called in autocommit mode records right away.
"""

from __future__ import annotations

import contextlib
import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, models, router, transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from realtime import publish, registry, sequence
from realtime.models import OutboxEvent
from realtime.protocol import Op
from realtime.registry import Change, Representation, SyncedModel

_BEFORE = "_realtime_before"
_DEPENDENTS = "_realtime_dependents"
_STORED = "_realtime_stored"
_OLD_USER = "_realtime_old_user"
_LOCKED = "_realtime_locked"
_FUSED = "_realtime_fused"  # the save's UPDATE wrote its outbox events too (`fused_update`)

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class RowView:
    """A row as one customer sees it; `rep` is None when the row is hidden from them."""

    owner: int | None
    rep: Representation | None

    @property
    def seen_by(self) -> tuple[int, Representation] | None:
        """(customer, representation) when a customer sees the row, else None."""
        if self.owner is None or self.rep is None:
            return None
        return self.owner, self.rep


@dataclass(frozen=True)
class Transition:
    entry: SyncedModel[Any]
    object_id: int
    before: RowView | None
    after: RowView | None
    created: bool = False
    deleted: bool = False


def row_view(entry: SyncedModel[Any], obj: models.Model) -> RowView:
    owner = entry.owner_of(obj)
    rep = entry.represent(obj) if owner is not None and entry.visible(obj) else None
    return RowView(owner=owner, rep=rep)


def differing_fields(old: Representation, new: Representation) -> list[str]:
    keys = list(new) + [key for key in old if key not in new]
    return [key for key in keys if old.get(key) != new.get(key)]


def _events_for(transition: Transition) -> Iterator[tuple[int, OutboxEvent]]:
    """The (customer, unnumbered event) pairs one row's transition produces; none if nothing
    visible moved."""
    entry, before, after = transition.entry, transition.before, transition.after

    def event(
        op: Op, old: Representation | None, new: Representation | None, changed: list[str]
    ) -> OutboxEvent:
        change = Change(
            op=op, old=old, new=new, changed=changed, created=transition.created, deleted=transition.deleted
        )
        return OutboxEvent(
            topic=entry.topic,
            op=op,
            event=str(entry.event_name(change)),
            object_id=transition.object_id,
            old=old,
            new=new,
            changed=changed,
        )

    seen = before.seen_by if before is not None else None
    shown = after.seen_by if after is not None else None
    if seen is not None and shown is not None and seen[0] == shown[0]:
        changed = differing_fields(seen[1], shown[1])
        if changed:
            yield seen[0], event("update", seen[1], shown[1], changed)
        return
    if seen is not None:
        yield seen[0], event("delete", seen[1], None, list(seen[1]))
    if shown is not None:
        yield shown[0], event("insert", None, shown[1], list(shown[1]))


def _batches(transitions: Iterable[Transition]) -> dict[int, list[OutboxEvent]]:
    """The unnumbered events of these transitions, by customer, stamped with one time."""
    by_customer: dict[int, list[OutboxEvent]] = defaultdict(list)
    for transition in transitions:
        for customer_id, event in _events_for(transition):
            by_customer[customer_id].append(event)
    now = timezone.now()
    for customer_id, batch in by_customer.items():
        for event in batch:
            event.customer_id, event.created_at = customer_id, now
    return by_customer


def _publish_on_commit(customer_id: int, batch: list[OutboxEvent], using: str) -> None:
    publish.publish_frames_on_commit(customer_id, [event.as_frame() for event in batch], using=using)


def record_transitions(transitions: Iterable[Transition], *, using: str = "default") -> list[OutboxEvent]:
    """Write the outbox events for these transitions and publish them after commit."""
    by_customer = _batches(transitions)
    if not by_customer:
        return []
    rows: list[OutboxEvent] = []
    # savepoint=False: inside the writer's transaction this adds no SAVEPOINT round trips.
    with transaction.atomic(using=using, savepoint=False):
        for customer_id in sorted(by_customer):  # one lock order, so bulk writers cannot deadlock
            batch = by_customer[customer_id]
            sequence.append(customer_id, batch, using=using)
            rows.extend(batch)
            _publish_on_commit(customer_id, batch, using)
    return rows


@dataclass(frozen=True)
class _Locked:
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
    entry = _entry(model)
    if entry is not None:
        owner = registry.owner()
        owner_user = getattr(obj, f"{owner.user_field}_id") if model is owner.model else None
        obj.__dict__[_LOCKED] = _Locked(connections[db].run_on_commit, row_view(entry, obj), owner_user)
    return obj


def fused_update(instance: models.Model, using: str) -> contextlib.AbstractContextManager[Any]:
    """Around `save()` of a row loaded with `lock` (on PostgreSQL): its UPDATE and its outbox
    events go to the database as one statement, a round trip less per save.

    The events need the row after the UPDATE, which Django has fully computed (auto_now
    included) when it runs the statement, so the statement is extended as it runs. Anything
    else (an insert, another statement shape, a change that moves the row between customers)
    runs as before, and post_save records its events."""
    noted = instance.__dict__.get(_LOCKED)
    connection = connections[using]
    if (
        not isinstance(noted, _Locked)
        or noted.transaction is not connection.run_on_commit
        or connection.vendor != "postgresql"
    ):
        return contextlib.nullcontext()
    entry = _entry(type(instance))
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
        before = instance.__dict__.get(_BEFORE)
        transition = Transition(entry, instance.pk, before, row_view(entry, instance))
        by_customer = _batches([transition])
        if len(by_customer) != 1:  # nothing visible moved, or the row changed customers
            return execute(sql, params, many, context)
        [(customer_id, batch)] = by_customer.items()
        fused_sql, fused_params = sequence.with_update(sql, list(params), customer_id, batch)
        result = execute(fused_sql, fused_params, many, context)
        rows = context["cursor"].fetchall()
        if rows:  # no row: the UPDATE matched nothing, and Django raises as it would without us
            sequence.stored(customer_id, batch, rows, using=using)
            _publish_on_commit(customer_id, batch, using)
            instance.__dict__[_FUSED] = True
        return result

    return connection.execute_wrapper(extend_update)


# --- signal receivers -------------------------------------------------------------------------


def _entry(sender: type[models.Model]) -> SyncedModel[Any] | None:
    concrete = sender._meta.concrete_model
    return registry.for_model(sender) or (registry.for_model(concrete) if concrete else None)


def _on_pre_save(
    sender: type[models.Model],
    instance: models.Model,
    raw: bool = False,
    using: str = "default",
    **kwargs: Any,
) -> None:
    entry = _entry(sender)
    if entry is None or raw:
        return
    before: RowView | None = None
    noted = instance.__dict__.pop(_LOCKED, None)
    if isinstance(noted, _Locked) and noted.transaction is connections[using].run_on_commit:
        # Loaded with `lock` in this transaction: the row cannot have changed since.
        before = noted.view
        if sender is registry.owner().model:
            instance.__dict__[_OLD_USER] = noted.owner_user
    elif instance.pk is not None and not instance._state.adding:
        # Locked (saves of synced models always run in a transaction): a concurrent writer
        # cannot change the row between this read and our UPDATE, so `old` is exact.
        stored = (
            sender._default_manager.using(using).select_for_update(no_key=True).filter(pk=instance.pk).first()
        )
        if stored is not None:
            before = row_view(entry, stored)
            if kwargs.get("update_fields") is not None:
                instance.__dict__[_STORED] = stored
            owner_model = registry.owner()
            if sender is owner_model.model:
                instance.__dict__[_OLD_USER] = getattr(stored, f"{owner_model.user_field}_id")
    instance.__dict__[_BEFORE] = before


def _on_post_save(
    sender: type[models.Model],
    instance: models.Model,
    created: bool = False,
    raw: bool = False,
    using: str = "default",
    **kwargs: Any,
) -> None:
    entry = _entry(sender)
    if entry is None or raw:
        return
    before = instance.__dict__.pop(_BEFORE, None)
    if instance.__dict__.pop(_FUSED, False):
        _announce_owner_change(sender, instance)
        return
    saved = instance
    stored = instance.__dict__.pop(_STORED, None)
    update_fields = kwargs.get("update_fields")
    if stored is not None and update_fields is not None:
        # Only these columns were written. The rest of the row is what the database held, which
        # a stale instance may not know: describe the row as stored, not the instance.
        for name in update_fields:
            column = sender._meta.get_field(name)
            assert isinstance(column, models.Field)  # noqa: S101  (update_fields name columns)
            attname = column.attname
            setattr(stored, attname, getattr(instance, attname))
        saved = stored
    record_transitions(
        [Transition(entry, instance.pk, before, row_view(entry, saved), created=created)], using=using
    )
    _announce_owner_change(sender, instance)


def _announce_owner_change(sender: type[models.Model], instance: models.Model) -> None:
    """A customer row whose login changed: sockets watching it re-check access after commit."""
    owner_model = registry.owner()
    if sender is owner_model.model and _OLD_USER in instance.__dict__:
        old_user = instance.__dict__.pop(_OLD_USER)
        if old_user != getattr(instance, f"{owner_model.user_field}_id"):
            publish.announce_access_changed_on_commit(instance.pk)


@functools.cache
def _set_on_delete(model: type[models.Model]) -> tuple[tuple[SyncedModel[Any], str], ...]:
    """Synced models whose foreign key to `model` is rewritten, not deleted, when a `model` row
    goes (SET_NULL, SET_DEFAULT, SET(...)): (entry, field name) pairs."""
    found: list[tuple[SyncedModel[Any], str]] = []
    # include_hidden: `related_name="+"` relations (LoyaltyTransaction.job) are rewritten too.
    for relation in model._meta.get_fields(include_hidden=True):
        if not isinstance(relation, models.ForeignObjectRel) or relation.many_to_many:
            continue
        on_delete = relation.on_delete
        entry = _entry(relation.related_model)
        if entry is None or on_delete in (
            None,
            models.CASCADE,
            models.PROTECT,
            models.RESTRICT,
            models.DO_NOTHING,
        ):
            continue
        found.append((entry, relation.field.name))
    return tuple(found)


def _on_pre_delete(
    sender: type[models.Model], instance: models.Model, using: str = "default", **kwargs: Any
) -> None:
    entry = _entry(sender)
    if entry is not None:
        instance.__dict__[_BEFORE] = row_view(entry, instance)
    # Django's deletion collector rewrites these rows with QuerySet.update(), which sends no
    # signals: note how customers see them now and compare after the delete.
    dependents: list[tuple[SyncedModel[Any], dict[Any, RowView]]] = []
    for dependent, field_name in _set_on_delete(sender):
        rows = dependent.model._default_manager.using(using).filter(**{field_name: instance.pk})
        dependents.append((dependent, {obj.pk: row_view(dependent, obj) for obj in rows}))
    if dependents:
        instance.__dict__[_DEPENDENTS] = dependents


def _on_post_delete(
    sender: type[models.Model], instance: models.Model, using: str = "default", **kwargs: Any
) -> None:
    entry = _entry(sender)
    if entry is not None:
        before = instance.__dict__.pop(_BEFORE, None)
        record_transitions([Transition(entry, instance.pk, before, None, deleted=True)], using=using)
        if sender is registry.owner().model:
            # The customer is gone: its sockets (owner's and staff's) lose access now, after
            # the deletes above reach them, not at the next periodic check.
            publish.announce_access_changed_on_commit(instance.pk)
    transitions: list[Transition] = []
    for dependent, before_rows in instance.__dict__.pop(_DEPENDENTS, ()):
        if not before_rows:
            continue
        rows = dependent.model._default_manager.using(using).filter(pk__in=before_rows).order_by("pk")
        # Rows deleted in the same cascade are gone here and send their own delete.
        transitions += [
            Transition(dependent, obj.pk, before_rows[obj.pk], row_view(dependent, obj)) for obj in rows
        ]
    if transitions:
        record_transitions(transitions, using=using)


def connect_signals() -> None:
    """Connected for all models and filtered by the registry, so registration order is free."""
    pre_save.connect(_on_pre_save, dispatch_uid="realtime.pre_save")
    post_save.connect(_on_post_save, dispatch_uid="realtime.post_save")
    pre_delete.connect(_on_pre_delete, dispatch_uid="realtime.pre_delete")
    post_delete.connect(_on_post_delete, dispatch_uid="realtime.post_delete")

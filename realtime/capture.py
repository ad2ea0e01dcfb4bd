"""Capture: turn saves and deletes of registered models into outbox events.

Receivers stay thin: they note the customer's view of the row before and after, and
`record_transitions` (realtime.transitions) writes the events in the writer's own transaction
and schedules the publish for after commit; a save of a row loaded with `lock` has written them
with its UPDATE already (realtime.locking). A rolled-back transaction therefore leaves no event
and sends nothing.
Synced models save inside a transaction (`realtime.models.TransactionalSave`), so the event
commits with the row; `record_transitions` called in autocommit mode records right away.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connections, models
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from realtime import publish, registry
from realtime.locking import FUSED, LOCKED, OLD_USER, Locked, lock
from realtime.registry import SyncedModel
from realtime.transitions import BEFORE, RowView, Transition, entry_for, record_transitions, row_view

# Services load what they change with `lock` (realtime.locking), imported from here.
__all__ = ["connect_signals", "lock"]

_DEPENDENTS = "_realtime_dependents"
_STORED = "_realtime_stored"


def _on_pre_save(
    sender: type[models.Model],
    instance: models.Model,
    raw: bool = False,
    using: str = "default",
    **kwargs: Any,
) -> None:
    entry = entry_for(sender)
    if entry is None or raw:
        return
    before: RowView | None = None
    noted = instance.__dict__.pop(LOCKED, None)
    if isinstance(noted, Locked) and noted.transaction is connections[using].run_on_commit:
        # Loaded with `lock` in this transaction: the row cannot have changed since.
        before = noted.view
        if sender is registry.owner().model:
            instance.__dict__[OLD_USER] = noted.owner_user
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
                instance.__dict__[OLD_USER] = getattr(stored, f"{owner_model.user_field}_id")
    instance.__dict__[BEFORE] = before


def _on_post_save(
    sender: type[models.Model],
    instance: models.Model,
    created: bool = False,
    raw: bool = False,
    using: str = "default",
    **kwargs: Any,
) -> None:
    entry = entry_for(sender)
    if entry is None or raw:
        return
    before = instance.__dict__.pop(BEFORE, None)
    if instance.__dict__.pop(FUSED, False):
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
    if sender is owner_model.model and OLD_USER in instance.__dict__:
        old_user = instance.__dict__.pop(OLD_USER)
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
        entry = entry_for(relation.related_model)
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
    entry = entry_for(sender)
    if entry is not None:
        instance.__dict__[BEFORE] = row_view(entry, instance)
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
    entry = entry_for(sender)
    if entry is not None:
        before = instance.__dict__.pop(BEFORE, None)
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

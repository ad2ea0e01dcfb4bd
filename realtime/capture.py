"""Capture: turn saves and deletes of registered models into outbox events.

Receivers stay thin: they note the customer's view of the row before and after, and
`record_transitions` writes the events in the writer's own transaction and schedules the
publish for after commit. A rolled-back transaction therefore leaves no event and sends nothing.
Synced models save inside a transaction (`realtime.models.TransactionalSave`), so the event
commits with the row; `record_transitions` called in autocommit mode records right away.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from realtime import publish, registry, sequence
from realtime.models import OutboxEvent
from realtime.registry import Change, Representation, SyncedModel

_BEFORE = "_realtime_before"
_DEPENDENTS = "_realtime_dependents"
_STORED = "_realtime_stored"
_OLD_USER = "_realtime_old_user"

# Close codes of docs/protocol.md.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@dataclass(frozen=True)
class Snapshot:
    """A row as one customer sees it; `rep` is None when the row is hidden from them."""

    owner: int | None
    rep: Representation | None

    @property
    def visible(self) -> bool:
        return self.owner is not None and self.rep is not None


@dataclass(frozen=True)
class Transition:
    entry: SyncedModel
    object_id: int
    before: Snapshot | None
    after: Snapshot | None
    created: bool = False
    deleted: bool = False


def snapshot(entry: SyncedModel, obj: models.Model) -> Snapshot:
    owner = entry.owner_of(obj)
    rep = entry.represent(obj) if owner is not None and entry.visible(obj) else None
    return Snapshot(owner=owner, rep=rep)


def changed_fields(old: Representation, new: Representation) -> list[str]:
    keys = list(new) + [key for key in old if key not in new]
    return [key for key in keys if old.get(key) != new.get(key)]


def _events_for(transition: Transition) -> Iterable[tuple[int, dict[str, Any]]]:
    """The (customer, event) pairs one row's transition produces; none if nothing visible moved."""
    entry, before, after = transition.entry, transition.before, transition.after
    was_visible = before is not None and before.visible
    is_visible = after is not None and after.visible

    def event(op: str, old: Representation | None, new: Representation | None, changed: list[str]):
        change = Change(
            op=op, old=old, new=new, changed=changed, created=transition.created, deleted=transition.deleted
        )
        return {
            "topic": entry.topic,
            "op": op,
            "event": str(entry.event_name(change)),
            "object_id": transition.object_id,
            "old": old,
            "new": new,
            "changed": changed,
        }

    if was_visible and is_visible and before.owner == after.owner:
        changed = changed_fields(before.rep, after.rep)
        if changed:
            yield before.owner, event("update", before.rep, after.rep, changed)
        return
    if was_visible:
        yield before.owner, event("delete", before.rep, None, list(before.rep))
    if is_visible:
        yield after.owner, event("insert", None, after.rep, list(after.rep))


def record_transitions(transitions: Iterable[Transition], *, using: str = "default") -> list[OutboxEvent]:
    """Write the outbox events for these transitions and publish them after commit."""
    by_customer: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for transition in transitions:
        for customer_id, event in _events_for(transition):
            by_customer[customer_id].append(event)
    if not by_customer:
        return []
    now = timezone.now()
    rows: list[OutboxEvent] = []
    # savepoint=False: inside the writer's transaction this adds no SAVEPOINT round trips.
    with transaction.atomic(using=using, savepoint=False):
        for customer_id in sorted(by_customer):  # one lock order, so bulk writers cannot deadlock
            events = by_customer[customer_id]
            seqs = sequence.take(customer_id, len(events), using=using)
            batch = [
                OutboxEvent(customer_id=customer_id, seq=seq, created_at=now, **event)
                for seq, event in zip(seqs, events, strict=True)
            ]
            OutboxEvent.objects.using(using).bulk_create(batch)
            rows.extend(batch)
            publish.publish_frames_on_commit(customer_id, [row.as_frame() for row in batch], using=using)
    return rows


# --- signal receivers -------------------------------------------------------------------------


def _entry(sender: type[models.Model]) -> SyncedModel | None:
    return registry.for_model(sender) or registry.for_model(sender._meta.concrete_model)


def _on_pre_save(sender, instance, raw=False, using="default", **kwargs) -> None:
    entry = _entry(sender)
    if entry is None or raw:
        return
    before = None
    if instance.pk is not None and not instance._state.adding:
        # Locked (saves of synced models always run in a transaction): a concurrent writer
        # cannot change the row between this read and our UPDATE, so `old` is exact.
        stored = (
            sender._default_manager.using(using).select_for_update(no_key=True).filter(pk=instance.pk).first()
        )
        if stored is not None:
            before = snapshot(entry, stored)
            if kwargs.get("update_fields") is not None:
                instance.__dict__[_STORED] = stored
            owner_model = registry.owner()
            if sender is owner_model.model:
                instance.__dict__[_OLD_USER] = getattr(stored, f"{owner_model.user_field}_id")
    instance.__dict__[_BEFORE] = before


def _on_post_save(sender, instance, created=False, raw=False, using="default", **kwargs) -> None:
    entry = _entry(sender)
    if entry is None or raw:
        return
    before = instance.__dict__.pop(_BEFORE, None)
    saved = instance
    stored = instance.__dict__.pop(_STORED, None)
    update_fields = kwargs.get("update_fields")
    if stored is not None and update_fields is not None:
        # Only these columns were written. The rest of the row is what the database held, which
        # a stale instance may not know: describe the row as stored, not the instance.
        for name in update_fields:
            attname = sender._meta.get_field(name).attname
            setattr(stored, attname, getattr(instance, attname))
        saved = stored
    record_transitions(
        [Transition(entry, instance.pk, before, snapshot(entry, saved), created=created)], using=using
    )
    owner_model = registry.owner()
    if sender is owner_model.model and _OLD_USER in instance.__dict__:
        old_user = instance.__dict__.pop(_OLD_USER)
        if old_user != getattr(instance, f"{owner_model.user_field}_id"):
            publish.announce_access_changed_on_commit(instance.pk)


@functools.cache
def _set_on_delete(model: type[models.Model]) -> tuple[tuple[SyncedModel, str], ...]:
    """Synced models whose foreign key to `model` is rewritten, not deleted, when a `model` row
    goes (SET_NULL, SET_DEFAULT, SET(...)): (entry, field name) pairs."""
    found = []
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


def _on_pre_delete(sender, instance, using="default", **kwargs) -> None:
    entry = _entry(sender)
    if entry is not None:
        instance.__dict__[_BEFORE] = snapshot(entry, instance)
    # Django's deletion collector rewrites these rows with QuerySet.update(), which sends no
    # signals: note how customers see them now and compare after the delete.
    dependents = []
    for dependent, field_name in _set_on_delete(sender):
        rows = dependent.model._default_manager.using(using).filter(**{field_name: instance.pk})
        dependents.append((dependent, {obj.pk: snapshot(dependent, obj) for obj in rows}))
    if dependents:
        instance.__dict__[_DEPENDENTS] = dependents


def _on_post_delete(sender, instance, using="default", **kwargs) -> None:
    entry = _entry(sender)
    if entry is not None:
        before = instance.__dict__.pop(_BEFORE, None)
        record_transitions([Transition(entry, instance.pk, before, None, deleted=True)], using=using)
        if sender is registry.owner().model:
            # The customer is gone: its sockets (owner's and staff's) lose access now, after
            # the deletes above reach them, not at the next periodic check.
            publish.announce_access_changed_on_commit(instance.pk)
    transitions = []
    for dependent, before_rows in instance.__dict__.pop(_DEPENDENTS, ()):
        if not before_rows:
            continue
        rows = dependent.model._default_manager.using(using).filter(pk__in=before_rows).order_by("pk")
        # Rows deleted in the same cascade are gone here and send their own delete.
        transitions += [
            Transition(dependent, obj.pk, before_rows[obj.pk], snapshot(dependent, obj)) for obj in rows
        ]
    if transitions:
        record_transitions(transitions, using=using)


def _on_user_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs) -> None:
    # Deactivation, losing is_staff and a password change (which ends the user's sessions) all
    # end access; the sockets re-check. A login only touches last_login.
    if created or raw or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    publish.recheck_user_sockets_on_commit(instance.pk)


def _on_permissions_changed(sender, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        publish.recheck_watchers_on_commit()


def _on_user_deleted(sender, instance, **kwargs) -> None:
    publish.close_user_sockets_on_commit(instance.pk, CLOSE_FORBIDDEN)


def _on_logged_out(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        publish.send_to_group(
            publish.session_group(session_key), {"type": "realtime.close", "code": CLOSE_UNAUTHENTICATED}
        )


def connect_signals() -> None:
    """Connected for all models and filtered by the registry, so registration order is free."""
    pre_save.connect(_on_pre_save, dispatch_uid="realtime.pre_save")
    post_save.connect(_on_post_save, dispatch_uid="realtime.post_save")
    pre_delete.connect(_on_pre_delete, dispatch_uid="realtime.pre_delete")
    post_delete.connect(_on_post_delete, dispatch_uid="realtime.post_delete")
    user_model = get_user_model()
    post_save.connect(_on_user_saved, sender=user_model, dispatch_uid="realtime.user_saved")
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            _on_permissions_changed, sender=through, dispatch_uid=f"realtime.perms.{through._meta.label}"
        )
    post_delete.connect(_on_user_deleted, sender=user_model, dispatch_uid="realtime.user_deleted")
    user_logged_out.connect(_on_logged_out, dispatch_uid="realtime.logged_out")

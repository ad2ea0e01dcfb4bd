"""The bulk path: `QuerySet.update()`, `bulk_create()` and `bulk_update()` skip model signals,
so these wrappers emit the same events the per-row path would.

    from realtime.bulk import sync_update, sync_bulk_create, sync_bulk_update

    sync_update(Invoice.objects.filter(status="sent", due_date__lt=today), status="overdue")
    sync_bulk_create(LoyaltyTransaction, [LoyaltyTransaction(...), ...])
    sync_bulk_update(jobs, ["technician"])

Each runs in one transaction, locks the rows it reads (PostgreSQL; FOR NO KEY UPDATE, which
unlike FOR UPDATE does not block other writers' foreign key checks at commit while they hold
the customer's seq lock, see crm.services.loyalty._lock_customer), records one event per
visible change and publishes after commit, exactly like saves do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import models, transaction

from realtime import publish, registry
from realtime.registry import SyncedModel, for_model
from realtime.transitions import RowView, Transition, record_transitions, row_view

M = TypeVar("M", bound=models.Model)


def _entry(model: type[models.Model]) -> SyncedModel[Any]:
    entry = for_model(model)
    if entry is None:
        raise LookupError(f"{model.__name__} is not registered with the realtime registry.")
    return entry


def _row_views(entry: SyncedModel[Any], queryset: models.QuerySet[Any]) -> dict[Any, RowView]:
    return {obj.pk: row_view(entry, obj) for obj in queryset}


def sync_update(queryset: models.QuerySet[Any], **values: Any) -> int:
    """`queryset.update(**values)` that also emits realtime events; returns the row count."""
    model = queryset.model
    entry = _entry(model)
    db = queryset.db
    with transaction.atomic(using=db):
        rows = queryset.select_for_update(no_key=True).order_by("pk")
        before = _row_views(entry, rows)
        if not before:
            return 0
        count: int = model._default_manager.using(db).filter(pk__in=before).update(**values)
        after = _row_views(entry, model._default_manager.using(db).filter(pk__in=before).order_by("pk"))
        record_transitions((Transition(entry, pk, before[pk], after.get(pk)) for pk in before), using=db)
        _announce_owner_logins(model, before, values)
    return count


def sync_bulk_create(model: type[M], objs: Sequence[M], **kwargs: Any) -> list[M]:
    """`bulk_create` that emits an insert for each visible new row (needs returned pks)."""
    entry = _entry(model)
    db = kwargs.pop("using", "default")
    with transaction.atomic(using=db):
        created = model._default_manager.using(db).bulk_create(objs, **kwargs)
        if any(obj.pk is None for obj in created):
            raise ValueError("sync_bulk_create needs a database that returns primary keys.")
        record_transitions(
            (Transition(entry, obj.pk, None, row_view(entry, obj), created=True) for obj in created),
            using=db,
        )
    return created


def sync_bulk_update(objs: Sequence[M], fields: Sequence[str], **kwargs: Any) -> int:
    """`bulk_update` that emits an event for each row whose customer-visible fields changed."""
    if not objs:
        return 0
    model = type(objs[0])
    entry = _entry(model)
    db = kwargs.pop("using", "default")
    pks = [obj.pk for obj in objs]
    with transaction.atomic(using=db):
        manager = model._default_manager.using(db)
        before = _row_views(entry, manager.filter(pk__in=pks).select_for_update(no_key=True).order_by("pk"))
        count = manager.bulk_update(objs, fields, **kwargs)
        after = _row_views(entry, manager.filter(pk__in=pks).order_by("pk"))
        record_transitions(
            (Transition(entry, pk, before.get(pk), after.get(pk)) for pk in sorted(before)), using=db
        )
        _announce_owner_logins(model, before, fields)
    return count


def _announce_owner_logins(model: type[models.Model], pks: Iterable[Any], fields: Iterable[str]) -> None:
    """A customer's login moved: its sockets re-check access, as a save would make them."""
    owner = registry.owner()
    if model is owner.model and {owner.user_field, f"{owner.user_field}_id"} & set(fields):
        for pk in pks:
            publish.announce_access_changed_on_commit(pk)

"""The one place that says which models sync (our `supabase_realtime` publication).

Apps declare entries with `register()` (the portal does it in `portal/sync.py`); the capture,
the consumer, the snapshot API and `realtime_status` read them from here. Adding a synced
model is one `register()` call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from rest_framework.serializers import ModelSerializer

from realtime.protocol import Op

Representation = dict[str, Any]
M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Change:
    """What an event-name rule sees: the customer's view before and after, and what moved."""

    op: Op
    old: Representation | None
    new: Representation | None
    changed: list[str]
    created: bool  # the row is new in the database (not merely newly visible)
    deleted: bool  # the row is gone from the database (not merely hidden)

    @property
    def row(self) -> Representation:
        """The row as the customer sees it now: `new`, or `old` for a delete."""
        row = self.new if self.new is not None else self.old
        assert row is not None, "a change has a row on at least one side"  # noqa: S101
        return row


@dataclass(frozen=True)
class SyncedModel(Generic[M]):
    model: type[M]
    topic: str
    serializer: type[ModelSerializer[Any]]  # its fields are exactly what a customer sees
    event_name: Callable[[Change], str]
    owner_field: str = "customer_id"
    # Which rows a customer sees, said twice because saves test one row in Python and
    # snapshots filter in SQL; tests/realtime/test_registry.py checks the two agree.
    visible: Callable[[M], bool] = field(default=lambda obj: True)
    visible_filter: models.Q = field(default_factory=models.Q)
    ordering: tuple[str, ...] = ("pk",)
    label: str = ""  # what the topic is called on screens (the multi-subscription status)
    # Extra figures for the snapshot API, computed over the customer's visible rows
    # (loyalty: its balance).
    summary: Callable[[models.QuerySet[M]], dict[str, Any]] | None = None

    def owner_of(self, obj: M) -> int | None:
        owner: int | None = getattr(obj, self.owner_field)
        return owner

    def visible_rows(self, customer_id: int) -> models.QuerySet[M]:
        """The rows this customer sees, in display order."""
        return (
            self.model._default_manager.filter(**{self.owner_field: customer_id})
            .filter(self.visible_filter)
            .order_by(*self.ordering)
        )

    def represent(self, obj: M) -> Representation:
        # One serializer instance per entry: building a ModelSerializer's fields costs more
        # than the rest of a save, and `to_representation` is read-only once they are built.
        serializer = _serializers.get(self.topic)
        if serializer is None:
            serializer = _serializers[self.topic] = self.serializer()
            serializer.fields  # noqa: B018  (build them now, not on a racing first use)
        return dict(serializer.to_representation(obj))

    @property
    def fields(self) -> list[str]:
        """The fields a customer sees, in the serializer's order."""
        return list(self.serializer.Meta.fields)


@dataclass(frozen=True)
class OwnerModel:
    """The model whose rows own the synced data (Customer) and the field naming its login."""

    model: type[models.Model]
    user_field: str
    view_permission: str


_by_model: dict[type[models.Model], SyncedModel[Any]] = {}
_by_topic: dict[str, SyncedModel[Any]] = {}
_owner: OwnerModel | None = None
_serializers: dict[str, ModelSerializer[Any]] = {}


def register(entry: SyncedModel[M]) -> SyncedModel[M]:
    from realtime.models import TransactionalSave  # models import late: the registry loads first

    if not issubclass(entry.model, TransactionalSave):
        raise ImproperlyConfigured(
            f"{entry.model.__name__} must subclass realtime.models.TransactionalSave, so that its "
            "outbox events commit in the same transaction as its rows."
        )
    if entry.topic in _by_topic and _by_topic[entry.topic].model is not entry.model:
        raise ValueError(f"Topic {entry.topic!r} is already registered.")
    _by_model[entry.model] = entry
    _by_topic[entry.topic] = entry
    _serializers.pop(entry.topic, None)
    return entry


def register_owner(*, model: type[models.Model], user_field: str) -> None:
    global _owner
    meta = model._meta
    _owner = OwnerModel(
        model=model,
        user_field=user_field,
        view_permission=f"{meta.app_label}.view_{meta.model_name}",
    )


def owner() -> OwnerModel:
    if _owner is None:
        raise LookupError("No owner model registered; call realtime.registry.register_owner().")
    return _owner


def for_model(model: type[models.Model]) -> SyncedModel[Any] | None:
    return _by_model.get(model)


def for_topic(topic: str) -> SyncedModel[Any] | None:
    return _by_topic.get(topic)


def topics() -> list[str]:
    """Every topic, in registration order (the order screens list them in)."""
    return list(_by_topic)


def entries() -> list[SyncedModel[Any]]:
    return list(_by_topic.values())

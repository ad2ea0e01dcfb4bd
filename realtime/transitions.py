"""Transitions: how customers see a row before and after a write, and the outbox events that
follow, written in the writer's transaction and published after commit.

Capture's signal receivers (`realtime.capture`), the fused update of a locked row
(`realtime.locking`) and the bulk paths (`realtime.bulk`) all record through here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from realtime import publish, registry, sequence
from realtime.models import OutboxEvent
from realtime.protocol import Op
from realtime.registry import Change, Representation, SyncedModel

BEFORE = "_realtime_before"  # on an instance being saved: its RowView before the write


def entry_for(sender: type[models.Model]) -> SyncedModel[Any] | None:
    """The registry entry of a model (or of its concrete model, for a proxy), if it syncs."""
    concrete = sender._meta.concrete_model
    return registry.for_model(sender) or (registry.for_model(concrete) if concrete else None)


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


def events_for(transition: Transition) -> Iterator[tuple[int, OutboxEvent]]:
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


def batches(transitions: Iterable[Transition]) -> dict[int, list[OutboxEvent]]:
    """The unnumbered events of these transitions, by customer, stamped with one time."""
    by_customer: dict[int, list[OutboxEvent]] = defaultdict(list)
    for transition in transitions:
        for customer_id, event in events_for(transition):
            by_customer[customer_id].append(event)
    now = timezone.now()
    for customer_id, batch in by_customer.items():
        for event in batch:
            event.customer_id, event.created_at = customer_id, now
    return by_customer


def publish_on_commit(customer_id: int, batch: list[OutboxEvent], using: str) -> None:
    publish.publish_frames_on_commit(customer_id, [event.as_frame() for event in batch], using=using)


def record_transitions(transitions: Iterable[Transition], *, using: str = "default") -> list[OutboxEvent]:
    """Write the outbox events for these transitions and publish them after commit."""
    by_customer = batches(transitions)
    if not by_customer:
        return []
    rows: list[OutboxEvent] = []
    # savepoint=False: inside the writer's transaction this adds no SAVEPOINT round trips.
    with transaction.atomic(using=using, savepoint=False):
        for customer_id in sorted(by_customer):  # one lock order, so bulk writers cannot deadlock
            batch = by_customer[customer_id]
            sequence.append(customer_id, batch, using=using)
            rows.extend(batch)
            publish_on_commit(customer_id, batch, using)
    return rows

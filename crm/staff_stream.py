"""The staff stream: every inbox change, numbered across all customers (docs/protocol.md,
"The staff stream").

Per-customer outbox seqs cannot order changes across customers, so the staff side has its own
counter (`StaffSequence`, one row). A writer takes the next number by updating that row, whose
lock it holds until commit: numbers follow commit order with no gaps, as the per-customer
counter does. Writers are customer actions and staff handling items: a few a second at most.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm.staff_models import InboxItem, StaffEvent, StaffSequence
from realtime.publish import send_to_group

GROUP = "staff-stream"  # every staff socket of every process joins it
TOPIC = "inbox"
SEQUENCE_ROW = 1


def _next_seq() -> int:
    if not StaffSequence.objects.filter(pk=SEQUENCE_ROW).update(last=F("last") + 1):
        # First event ever: create the row; a racing creator makes one of us retry the update.
        StaffSequence.objects.get_or_create(pk=SEQUENCE_ROW)
        StaffSequence.objects.filter(pk=SEQUENCE_ROW).update(last=F("last") + 1)
    return StaffSequence.objects.values_list("last", flat=True).get(pk=SEQUENCE_ROW)


def current_seq() -> int:
    return StaffSequence.objects.filter(pk=SEQUENCE_ROW).values_list("last", flat=True).first() or 0


def represent(item: InboxItem) -> dict[str, Any]:
    """What staff see of an item on the socket (staff-only: fine to carry notes)."""
    handler = item.handled_by
    return {
        "id": item.pk,
        "kind": item.kind,
        "customer": item.customer_id,
        "customer_name": item.customer.name,
        "summary": item.summary,
        "text": item.text,
        "record": {"model": item.record_model, "id": item.record_id},
        "request": item.request_id,
        "created_at": item.created_at.isoformat(),
        "handled_at": item.handled_at.isoformat() if item.handled_at else None,
        "handled_by": (handler.get_full_name() or handler.get_username()) if handler else None,
    }


def as_frame(event: StaffEvent) -> dict[str, Any]:
    return {
        "type": "change",
        "seq": event.seq,
        "topic": TOPIC,
        "op": event.op,
        "event": event.event,
        "id": event.object_id,
        "new": event.new,
        "old": event.old,
        "changed": event.changed,
        "at": event.at.isoformat(),
    }


def append(*, event: str, item: InboxItem, old: dict[str, Any] | None) -> StaffEvent:
    """Number and store one change of `item` in the writer's transaction; publish after commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("staff_stream.append runs inside the writer's transaction")
    new = represent(item)
    changed = list(new) if old is None else [key for key in new if new[key] != old.get(key)]
    staff_event = StaffEvent.objects.create(
        seq=_next_seq(),
        event=event,
        object_id=item.pk,
        op="insert" if old is None else "update",
        old=old,
        new=new,
        changed=changed,
        at=timezone.now(),
    )
    frame = as_frame(staff_event)
    transaction.on_commit(lambda: send_to_group(GROUP, {"type": "staff.changes", "frames": [frame]}))
    return staff_event


def events_after(seq: int, upto: int | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    rows = StaffEvent.objects.filter(seq__gt=seq)
    if upto is not None:
        rows = rows.filter(seq__lte=upto)
    return [as_frame(event) for event in rows.order_by("seq")[:limit]]

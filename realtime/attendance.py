"""Whether a customer has a portal tab open, for work outside the socket processes (emails).

Each hub's sweep (every `REALTIME_CHECK_INTERVAL`) stamps `connected_until = now` for the
customers with an own socket open on its process, in one statement; so do own sockets opening
(the handshake's batch: a tab opened just after a sweep is present at once) and closing (what
the tab showed since the last sweep must not be emailed), one statement per batch. A customer
is *present* while that stamp is younger than the presence time to live (2.5 sweeps), and a
change happened *while away* when it was recorded after the stamp. Staff sockets watching a
customer do not count.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Protocol

from django.utils import timezone

from realtime.batching import Batcher
from realtime.models import Attendance
from realtime.presence import presence_ttl
from realtime.threads import read_in_thread

logger = logging.getLogger(__name__)


class Socket(Protocol):
    customer_id: int | None
    requested: int | None  # a staff socket watching a customer: not the customer's own tab


def record(customer_ids: Iterable[int | None]) -> None:
    """Mark these customers as connected now (the hub's sweep)."""
    now = timezone.now()
    # Sorted: two processes upserting overlapping sets lock the rows in one order (no deadlock).
    ids = sorted({customer_id for customer_id in customer_ids if customer_id})
    rows = [Attendance(customer_id=customer_id, connected_until=now) for customer_id in ids]
    if rows:
        Attendance.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["customer_id"], update_fields=["connected_until"]
        )


def record_quietly(customer_ids: Iterable[int | None]) -> None:
    """`record`, with a failure logged rather than raised (for callers that must go on)."""
    try:
        record(customer_ids)
    except Exception:
        logger.exception("realtime: recording attendance failed")


async def stamp(customer_ids: Iterable[int | None]) -> None:
    """`record` from the event loop; a failure is logged, never raised (the sweep goes on)."""
    await read_in_thread(record_quietly)(list(customer_ids))


def _record_closes(customer_ids: list[int]) -> list[None]:
    record(customer_ids)
    return [None] * len(customer_ids)


# A reconnect storm closes a thousand sockets at once: one statement for those closing together.
_closes = Batcher(_record_closes)


async def closed(socket: Socket) -> None:
    """A customer's own socket closed: they saw everything up to now. Never raises."""
    if socket.customer_id is not None and socket.requested is None:
        try:
            await _closes(socket.customer_id)
        except Exception:
            logger.exception("realtime: recording attendance failed")


def connected_until(customer_id: int) -> dt.datetime | None:
    """When a tab of this customer's was last seen open, or None if never."""
    return (
        Attendance.objects.filter(customer_id=customer_id).values_list("connected_until", flat=True).first()
    )


def is_present(last_seen: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """A tab was seen recently enough that it may still be open."""
    if last_seen is None:
        return False
    return (now or timezone.now()) - last_seen < dt.timedelta(seconds=presence_ttl())

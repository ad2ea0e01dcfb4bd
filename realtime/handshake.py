"""Who is at the door of a new socket: batched, so a storm of handshakes costs a few queries.

channels' AuthMiddlewareStack loads the session and the user on the one thread its database
calls share, so 1,000 sockets opening at once queued 2,000 queries behind each other. Here the
handshakes waiting at a moment are admitted together on a worker thread: their sessions, the
users those log in, and the customers they may watch with their seqs, in three queries for all
of them (staff watching a customer check their permission on their own), and one statement
stamping the customers whose own tab opened (`realtime.attendance`). While one batch runs,
the next one gathers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http.cookie import parse_cookie

from realtime import access, attendance, registry, sequence
from realtime.batching import Batcher
from realtime.models import CustomerSequence
from realtime.protocol import CloseCode

BATCHES_IN_FLIGHT = 2  # worker threads admitting at once; more handshakes wait for the next batch


@dataclass(frozen=True)
class Admission:
    user_id: int
    session_key: str
    customer_id: int
    last_seq: int
    pruned_through: int


Request = tuple[str | None, int | None]  # (session key, requested customer)


def session_key_of(scope: Any) -> str | None:
    """The session cookie of a WebSocket handshake."""
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return parse_cookie(value.decode("latin-1")).get(settings.SESSION_COOKIE_NAME) or None
    return None


def admit_many(requests: list[Request]) -> list[Admission | CloseCode]:
    """For each (session key, requested customer): the admission, or the code to close with."""
    users = access.logins({key for key, _requested in requests if key})
    owner = registry.owner()
    counter = CustomerSequence.objects.filter(customer_id=OuterRef("pk"))
    own = {
        user_id: (customer_id, last_seq, pruned)
        for customer_id, user_id, last_seq, pruned in owner.model._default_manager.filter(
            **{f"{owner.user_field}__in": [user.pk for user in users.values()]}
        )
        .annotate(
            last_seq=Coalesce(Subquery(counter.values("last_seq")[:1]), Value(0)),
            pruned_through=Coalesce(Subquery(counter.values("pruned_through")[:1]), Value(0)),
        )
        .values_list("pk", f"{owner.user_field}_id", "last_seq", "pruned_through")
    }

    def admit(key: str | None, requested: int | None) -> Admission | CloseCode:
        user = users.get(key or "")
        if key is None or user is None:
            return CloseCode.UNAUTHENTICATED
        position = own.get(user.pk) if requested is None else _watched(user, requested)
        if position is None or (requested is not None and position[0] != requested):
            return CloseCode.FORBIDDEN
        return Admission(user.pk, key, *position)

    admitted = [admit(key, requested) for key, requested in requests]
    # A customer's own tab is open from now: digest emails must not wait for the next sweep to
    # know. A failed stamp turns no socket away (the sweep stamps again).
    attendance.record_quietly(
        result.customer_id
        for result, (_key, requested) in zip(admitted, requests, strict=True)
        if isinstance(result, Admission) and requested is None
    )
    return admitted


def _watched(user: AbstractUser, requested: int) -> tuple[int, int, int] | None:
    rows = access.watchable(user, requested)
    return sequence.with_position(rows) if rows is not None else None


def admissions() -> Batcher[Request, Admission | CloseCode]:
    """A process's admissions (the hub holds one): handshakes waiting together are admitted in
    one batch, at most BATCHES_IN_FLIGHT batches at once."""
    return Batcher(admit_many, in_flight=BATCHES_IN_FLIGHT)

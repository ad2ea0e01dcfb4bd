"""Who is at the door of a new socket, in one trip to a worker thread.

channels' AuthMiddlewareStack loads the session and the user on the one thread its database
calls share, so 1,000 sockets opening at once queued 2,000 queries behind each other (and
behind every other database call of the process). Here the session, its user and the customer
they may watch, with its seq, are read together on any free worker thread: three queries
(staff also check their permission), decided by Django's own rules for the session cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.http.cookie import parse_cookie
from django.utils.module_loading import import_string

from realtime import access, sequence
from realtime.protocol import CloseCode


@dataclass(frozen=True)
class Admission:
    user_id: int
    session_key: str
    customer_id: int
    last_seq: int
    pruned_through: int


def session_key_of(scope: Any) -> str | None:
    """The session cookie of a WebSocket handshake."""
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return parse_cookie(value.decode("latin-1")).get(settings.SESSION_COOKIE_NAME) or None
    return None


def admit(session_key: str | None, requested: int | None) -> Admission | CloseCode:
    """The socket's user, login session, customer and position, or the code to close it with."""
    if not session_key:
        return CloseCode.UNAUTHENTICATED
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")(session_key)
    # What an HTTP request with this cookie would get: expiry, logout and a changed password
    # (the session's auth hash) all mean nobody.
    user = get_user(SimpleNamespace(session=store))  # type: ignore[arg-type]
    if not user.is_authenticated:
        return CloseCode.UNAUTHENTICATED
    rows = access.watchable(user, requested)
    position = sequence.with_position(rows) if rows is not None else None
    if position is None:
        return CloseCode.FORBIDDEN
    return Admission(user.pk, session_key, *position)

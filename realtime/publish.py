"""Publishing to the Channels layer, always after commit, never blocking the writer.

The layer is lossy (at most once), so nothing here retries: a frame that does not arrive is
found missing by the consumer's gap repair and read back from the outbox.

With Redis, frames go to a per-process publisher thread with its own event loop and
connection, so a save returns as soon as its transaction commits. The in-memory layer is
bound to daphne's event loop and not thread-safe, so it is called through `async_to_sync`.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from concurrent.futures import Future
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from realtime.protocol import ChangeFrame, encoded

logger = logging.getLogger(__name__)

FLUSH_TIMEOUT = 5.0


# Each process's hub joins this group once: closes and re-checks for a user, a login session or
# every staff watcher (whose access rests on permissions that no single save announces).
REVOCATIONS_GROUP = "rt.revocations"


def customer_group(customer_id: int) -> str:
    """Changes, presence and typing of one customer; a process joins it while it has a socket of
    that customer. Every message names the customer, so the process knows whose sockets get it."""
    return f"rt.customer.{customer_id}"


class _Publisher:
    """One event loop in a daemon thread, sending group messages in the order they were queued."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pending: set[Future[None]] = set()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.loop.run_forever, name="realtime-publisher", daemon=True)
        self.thread.start()
        atexit.register(self.flush)

    def submit(self, group: str, message: dict[str, Any]) -> None:
        future = asyncio.run_coroutine_threadsafe(_send(group, message), self.loop)
        with self.lock:
            self.pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self.lock:
            self.pending.discard(future)

    def flush(self, timeout: float = FLUSH_TIMEOUT) -> None:
        """Wait for queued messages (a management command's last changes before it exits)."""
        with self.lock:
            waiting = list(self.pending)
        for future in waiting:
            try:
                future.result(timeout=timeout)
            except Exception:  # already logged by _send; the outbox still has the event
                logger.debug("realtime: publish failed during flush", exc_info=True)


async def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(group, message)
    except Exception:
        logger.warning(
            "realtime: publish to %s failed; clients will repair from the outbox", group, exc_info=True
        )


_publisher: _Publisher | None = None
_publisher_lock = threading.Lock()


def _get_publisher() -> _Publisher:
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            _publisher = _Publisher()
        return _publisher


def flush(timeout: float = FLUSH_TIMEOUT) -> None:
    if _publisher is not None:
        _publisher.flush(timeout)


def send_to_group(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.warning("realtime: publish to %s failed", group, exc_info=True)
        return
    _get_publisher().submit(group, message)


def publish_frames(customer_id: int, frames: list[ChangeFrame]) -> None:
    # Encoded here, once: every socket of the group sends the same text.
    changes = [encoded(frame) for frame in frames]
    send_to_group(
        customer_group(customer_id), {"type": "realtime.changes", "customer": customer_id, "frames": changes}
    )


def publish_frames_on_commit(customer_id: int, frames: list[ChangeFrame], *, using: str = "default") -> None:
    transaction.on_commit(lambda: publish_frames(customer_id, frames), using=using)


def announce_access_changed_on_commit(customer_id: int) -> None:
    """Sockets watching this customer re-check that their user may still see it."""
    message = {"type": "realtime.recheck", "customer": customer_id}
    transaction.on_commit(lambda: send_to_group(customer_group(customer_id), message))


def recheck_user_sockets_on_commit(user_id: int) -> None:
    message = {"type": "realtime.recheck", "user": user_id}
    transaction.on_commit(lambda: send_to_group(REVOCATIONS_GROUP, message))


def recheck_watchers_on_commit() -> None:
    message = {"type": "realtime.recheck", "watchers": True}
    transaction.on_commit(lambda: send_to_group(REVOCATIONS_GROUP, message))


def close_user_sockets_on_commit(user_id: int, code: int) -> None:
    message = {"type": "realtime.close", "user": user_id, "code": code}
    transaction.on_commit(lambda: send_to_group(REVOCATIONS_GROUP, message))


def close_session_sockets(session_key: str, code: int) -> None:
    """A login ended (logout): close that session's sockets, in every process."""
    send_to_group(REVOCATIONS_GROUP, {"type": "realtime.close", "session": session_key, "code": code})

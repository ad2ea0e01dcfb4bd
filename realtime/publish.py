"""Publishing to the Channels layer, always after commit.

The layer is lossy (at most once), so nothing here retries: a frame that does not arrive is
found missing by the consumer's gap repair and read back from the outbox.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def customer_group(customer_id: int) -> str:
    return f"rt.customer.{customer_id}"


def user_group(user_id: int) -> str:
    return f"rt.user.{user_id}"


def send_to_group(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The change is committed and in the outbox; sockets repair the gap on their own.
        logger.warning("realtime: publish to %s failed; clients will repair from the outbox", group, exc_info=True)


def publish_frames(customer_id: int, frames: list[dict[str, Any]]) -> None:
    send_to_group(customer_group(customer_id), {"type": "realtime.changes", "frames": frames})


def publish_frames_on_commit(customer_id: int, frames: list[dict[str, Any]], *, using: str = "default") -> None:
    transaction.on_commit(lambda: publish_frames(customer_id, frames), using=using)


def announce_access_changed_on_commit(customer_id: int) -> None:
    """Sockets watching this customer re-check that their user may still see it."""
    transaction.on_commit(lambda: send_to_group(customer_group(customer_id), {"type": "realtime.recheck"}))


def close_user_sockets_on_commit(user_id: int, code: int) -> None:
    transaction.on_commit(
        lambda: send_to_group(user_group(user_id), {"type": "realtime.close", "code": code})
    )


def session_group(session_key: str) -> str:
    return f"rt.session.{session_key}"

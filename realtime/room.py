"""`RoomMember`: one socket's part in its customer's room, for presence and typing.

Both are ephemeral (never stored in the outbox, numbered or replayed). The room is the
customer's group: the customer's own sockets and staff watching that customer. Names and roles
come from the server (`identify`), never from the client.

- Joining, changing status and leaving write the socket's presence entry and mark the room; the
  hub announces the room's new state a few times a second at most. Each socket that joined gets
  the whole room first, then only what changed (`presence_diff`), and nothing when nothing did.
- Typing is relayed only from a socket that joined the room, only to sockets whose presence
  `page` is the conversation (`CONVERSATION_PAGES`), never to the same user's other tabs, at
  most twice a second per socket; leaving the room (or the socket) while typing says "stopped"
  on its behalf.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from channels.layers import BaseChannelLayer
from django.conf import settings
from django.contrib.auth import get_user_model

from realtime import presence, publish, registry
from realtime.limits import TypingLimit
from realtime.protocol import (
    ErrorCode,
    OnlineUser,
    PresenceDiffFrame,
    PresenceFrame,
    PresenceStatus,
    ProtocolError,
    TypingFrame,
)
from realtime.threads import read_in_thread

# The pages that show the conversation, as tabs name them in `presence`: the portal's messages
# page and the staff's admin page of the customer. Not topics: every portal page subscribes to
# `messages` (for its notifications), and typing is only for those reading the thread.
CONVERSATION_PAGES = frozenset({"messages", "customer"})


@dataclass(frozen=True)
class Identity:
    user_key: str
    name: str
    role: Literal["customer", "staff"]


def identify(user_id: int, customer_id: int, *, watching: bool) -> Identity:
    """Who this socket's user is to the room: staff by their own name when watching a customer."""
    user = get_user_model()._default_manager.get(pk=user_id)
    if watching and user.is_staff:
        return Identity(f"user-{user.pk}", user.get_full_name() or user.get_username(), "staff")
    customer = registry.owner().model._default_manager.get(pk=customer_id)
    return Identity(f"user-{user.pk}", str(customer), "customer")


class RoomMember:
    def __init__(
        self,
        layer: BaseChannelLayer,
        channel_name: str,
        customer_id: int,
        user_id: int,
        *,
        watching: bool,
        on_change: Any,
    ) -> None:
        self.layer = layer
        self.channel_name = channel_name
        self.customer_id = customer_id
        self.user_id = user_id
        self.watching = watching
        self.on_change = on_change  # called with the customer id when the room changed
        self.identity: Identity | None = None
        self.entry: dict[str, Any] | None = None  # set while joined
        self.seen: dict[str, OnlineUser] | None = None  # the room as this socket last heard it
        self.seen_version = -1
        self.typing_now = False
        self.typing_limit = TypingLimit(settings.REALTIME_TYPING_PER_SECOND, _now())

    @property
    def joined(self) -> bool:
        return self.entry is not None

    @property
    def user_key(self) -> str:
        return f"user-{self.user_id}"

    async def _identity(self) -> Identity:
        if self.identity is None:
            self.identity = await read_in_thread(identify)(
                self.user_id, self.customer_id, watching=self.watching
            )
        return self.identity

    async def set_status(self, status: PresenceStatus | Literal["offline"], page: str | None = None) -> None:
        if status == "offline":
            await self.leave()
            return
        identity = await self._identity()
        self.entry = presence.entry_for(
            user_key=identity.user_key, name=identity.name, role=identity.role, status=status, page=page
        )
        await presence.store().put(self.customer_id, self.channel_name, self.entry)
        self.on_change(self.customer_id)

    async def leave(self) -> None:
        if self.entry is None:
            return
        if self.typing_now:
            await self._relay_typing(False)
        self.entry, self.seen, self.seen_version = None, None, -1
        await presence.store().remove(self.customer_id, self.channel_name)
        self.on_change(self.customer_id)

    def presence_frame(self, message: dict[str, Any]) -> PresenceFrame | PresenceDiffFrame | None:
        """What this socket hears of a room update: the whole room the first time, then what
        changed, nothing if nothing did (or if it has not joined, or the update is older)."""
        if not self.joined or message["version"] <= self.seen_version:
            return None
        online: dict[str, OnlineUser] = message["online"]
        seen, self.seen, self.seen_version = self.seen, online, message["version"]
        if seen is None:
            return {"type": "presence", "online": online}
        joined = {key: user for key, user in online.items() if seen.get(key) != user}
        left = [key for key in seen if key not in online]
        if not joined and not left:
            return None
        return {"type": "presence_diff", "joined": joined, "left": left}

    async def typing(self, typing: bool) -> None:
        if not self.joined:
            raise ProtocolError(ErrorCode.NOT_IN_ROOM, 'Join the room with "presence" before "typing".')
        if self.typing_limit.allow(typing, _now()):
            await self._relay_typing(typing)

    async def _relay_typing(self, typing: bool) -> None:
        self.typing_now = typing
        identity = await self._identity()
        await self.layer.group_send(
            publish.customer_group(self.customer_id),
            {
                "type": "realtime.typing",
                "customer": self.customer_id,
                "user": identity.user_key,
                "name": identity.name,
                "role": identity.role,
                "typing": typing,
            },
        )

    @property
    def shows_conversation(self) -> bool:
        return self.entry is not None and self.entry.get("page") in CONVERSATION_PAGES

    def typing_frame(self, message: dict[str, Any]) -> TypingFrame | None:
        """What to send for someone's typing: nothing to the same user's tabs, or to sockets not
        showing the conversation."""
        if message["user"] == self.user_key or not self.shows_conversation:
            return None
        return {
            "type": "typing",
            "user": message["user"],
            "name": message["name"],
            "role": message["role"],
            "typing": message["typing"],
        }


def _now() -> float:
    return asyncio.get_running_loop().time()

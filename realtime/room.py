"""`RoomMember`: one socket's part in its customer's room, for presence and typing.

Both are ephemeral (never stored in the outbox, numbered or replayed). The room is the
customer's group: the customer's own sockets and staff watching that customer. Names and roles
come from the server (`identify`), never from the client.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from channels.layers import BaseChannelLayer
from django.contrib.auth import get_user_model

from realtime import presence, publish, registry
from realtime.protocol import PresenceFrame, PresenceStatus, TypingFrame
from realtime.threads import read_in_thread

TYPING_MIN_INTERVAL = 1.0  # seconds between repeated identical typing frames from one socket


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
        self, layer: BaseChannelLayer, channel_name: str, customer_id: int, user_id: int, *, watching: bool
    ) -> None:
        self.layer = layer
        self.channel_name = channel_name
        self.customer_id = customer_id
        self.user_id = user_id
        self.watching = watching
        self.identity: Identity | None = None
        self.entry: dict[str, Any] | None = None  # set while joined
        self.last_typing: tuple[bool, float] = (False, 0.0)

    @property
    def joined(self) -> bool:
        return self.entry is not None

    async def _identity(self) -> Identity:
        if self.identity is None:
            self.identity = await read_in_thread(identify)(
                self.user_id, self.customer_id, watching=self.watching
            )
        return self.identity

    async def set_status(self, status: PresenceStatus | Literal["offline"]) -> None:
        if status == "offline":
            await self.leave()
            return
        identity = await self._identity()
        self.entry = presence.entry_for(
            user_key=identity.user_key, name=identity.name, role=identity.role, status=status
        )
        online = await presence.store().put(self.customer_id, self.channel_name, self.entry)
        await self._announce(online)

    async def leave(self) -> None:
        if self.entry is None:
            return
        self.entry = None
        online = await presence.store().remove(self.customer_id, self.channel_name)
        await self._announce(online)

    async def _announce(self, online: dict[str, Any]) -> None:
        await self.layer.group_send(
            publish.customer_group(self.customer_id), {"type": "realtime.presence", "online": online}
        )

    def presence_frame(self, message: dict[str, Any]) -> PresenceFrame | None:
        """What to send for a room update: only sockets that joined the room hear about it."""
        return {"type": "presence", "online": message["online"]} if self.joined else None

    async def typing(self, typing: bool) -> None:
        now = asyncio.get_running_loop().time()
        previous, at = self.last_typing
        if typing == previous and now - at < TYPING_MIN_INTERVAL:
            return  # a keystroke burst: the others already know
        self.last_typing = (typing, now)
        identity = await self._identity()
        await self.layer.group_send(
            publish.customer_group(self.customer_id),
            {
                "type": "realtime.typing",
                "sender": self.channel_name,
                "user": identity.user_key,
                "name": identity.name,
                "role": identity.role,
                "typing": typing,
            },
        )

    def typing_frame(self, message: dict[str, Any], *, reading_messages: bool) -> TypingFrame | None:
        """What to send for someone's typing: nothing to the sender or to sockets not showing
        the conversation."""
        if message["sender"] == self.channel_name or not reading_messages:
            return None
        return {
            "type": "typing",
            "user": message["user"],
            "name": message["name"],
            "role": message["role"],
            "typing": message["typing"],
        }

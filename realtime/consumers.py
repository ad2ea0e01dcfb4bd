"""`PortalConsumer`: the `/ws/realtime/` endpoint of docs/protocol.md.

The consumer owns the socket's lifecycle and dispatches frames; it delegates the change stream
to `Stream` (cursor, topics, catch-up), presence and typing to `RoomMember`, and access to
`realtime.access`. Frame shapes and codes are `realtime.protocol`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, cast
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser

from realtime import access, publish, registry, sequence
from realtime.protocol import (
    ClientFrame,
    CloseCode,
    ProtocolError,
    ServerFrame,
    encode,
    error_frame,
    parse_client_frame,
)
from realtime.room import RoomMember
from realtime.stream import Stream

logger = logging.getLogger(__name__)


class PortalConsumer(AsyncWebsocketConsumer):
    # Set by a successful connect; None on a socket that was refused (and is being closed).
    customer_id: int | None
    user_id: int | None
    session_key: str | None
    requested: int | None  # the `?customer=` a staff socket asked for
    stream: Stream | None
    room: RoomMember | None
    groups_joined: list[str]
    checker: asyncio.Task[None] | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer_id = None
        self.user_id = None
        self.session_key = None
        self.requested = None
        self.stream = None
        self.room = None
        self.groups_joined = []
        self.checker = None

    async def connect(self) -> None:
        # Accept first, then close with a code: a refused handshake shows browsers only 1006,
        # which reads as "network down" and makes clients retry forever.
        await self.accept()
        # AuthMiddlewareStack's lazy stand-in for the session's user (or AnonymousUser).
        user = cast(AbstractUser | AnonymousUser | None, self.scope.get("user"))
        if user is None or not user.is_authenticated:
            await self.close_with(CloseCode.UNAUTHENTICATED)
            return
        try:
            self.requested = _requested_customer(self.scope.get("query_string", b""))
        except ValueError:
            await self.close_with(CloseCode.FORBIDDEN)
            return
        customer_id = await database_sync_to_async(access.customer_for)(user, self.requested)
        if customer_id is None:
            await self.close_with(CloseCode.FORBIDDEN)
            return
        self.customer_id = customer_id
        self.user_id = user.pk
        self.session_key = getattr(self.scope.get("session"), "session_key", None)
        self.groups_joined = [publish.customer_group(customer_id), publish.user_group(user.pk)]
        if self.session_key:
            self.groups_joined.append(publish.session_group(self.session_key))
        if self.requested is not None:  # access that rests on permissions, re-checked when they change
            self.groups_joined.append(publish.WATCHERS_GROUP)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        # Joined before reading the seq, so nothing can slip between the two.
        cursor, _pruned = await database_sync_to_async(sequence.current)(customer_id)
        self.stream = Stream(customer_id, cursor, self.send_frame)
        self.room = RoomMember(
            self.channel_layer, self.channel_name, customer_id, user.pk, watching=self.requested is not None
        )
        await self.send_frame(
            {"type": "hello", "customer": customer_id, "seq": cursor, "topics": registry.topics()}
        )
        self.checker = asyncio.create_task(self._check_periodically())

    async def disconnect(self, code: int) -> None:
        if self.room is not None:
            await self.room.leave()
        if self.checker is not None:
            self.checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.checker
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    # --- client frames ----------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.stream is None or self.room is None:
            return  # refused at connect; the close is on its way
        try:
            frame = parse_client_frame(text_data, bytes_data, known_topics=registry.topics())
        except ProtocolError as error:
            await self.send_frame(error_frame(error))
            return
        await self.handle(frame, self.stream, self.room)

    async def handle(self, frame: ClientFrame, stream: Stream, room: RoomMember) -> None:
        if frame["type"] == "subscribe":
            await stream.subscribe(frame["topics"], frame.get("since"))
        elif frame["type"] == "unsubscribe":
            await stream.unsubscribe(frame["topics"])
        elif frame["type"] == "ping":
            if await self.check_access():
                await stream.catch_up()
                await room.refresh()
                await self.send_frame({"type": "pong", "seq": stream.cursor})
        elif frame["type"] == "presence":
            await room.set_status(frame["status"])
        elif frame["type"] == "typing":
            await room.typing(frame["typing"])

    # --- channel layer messages ------------------------------------------------------------

    async def realtime_changes(self, message: dict[str, Any]) -> None:
        if self.stream is not None:
            await self.stream.receive(message["frames"])

    async def realtime_recheck(self, message: dict[str, Any]) -> None:
        await self.check_access()

    async def realtime_close(self, message: dict[str, Any]) -> None:
        await self.close_with(CloseCode(message.get("code", CloseCode.FORBIDDEN)))

    async def realtime_tick(self, message: dict[str, Any]) -> None:
        if self.stream is not None and self.room is not None and await self.check_access():
            await self.stream.catch_up()
            await self.room.refresh()

    async def realtime_presence(self, message: dict[str, Any]) -> None:
        frame = self.room.presence_frame(message) if self.room is not None else None
        if frame is not None:
            await self.send_frame(frame)

    async def realtime_typing(self, message: dict[str, Any]) -> None:
        if self.room is None or self.stream is None:
            return
        frame = self.room.typing_frame(message, reading_messages="messages" in self.stream.floors)
        if frame is not None:
            await self.send_frame(frame)

    # --- access -----------------------------------------------------------------------------

    async def check_access(self) -> bool:
        if self.user_id is None or self.customer_id is None:
            return False
        code = await database_sync_to_async(access.access_lost)(
            user_id=self.user_id,
            session_key=self.session_key,
            requested=self.requested,
            customer_id=self.customer_id,
        )
        if code is None:
            return True
        await self.close_with(code)
        return False

    async def _check_periodically(self) -> None:
        # Catches what the layer lost entirely, for clients that never ping. The tick goes
        # through the layer so it is handled in turn with everything else.
        interval = settings.REALTIME_CHECK_INTERVAL
        while True:
            await asyncio.sleep(interval)
            try:
                await self.channel_layer.send(self.channel_name, {"type": "realtime.tick"})
            except Exception:
                # The layer is down, and with it any close or recheck message: check access
                # here (it touches no cursor, so it may run beside the handlers).
                logger.warning("realtime: periodic check could not reach the layer", exc_info=True)
                await self.check_access()

    async def close_with(self, code: CloseCode) -> None:
        await self.close(code=int(code))  # a plain int: daphne's autobahn refuses int subclasses

    async def send_frame(self, frame: ServerFrame) -> None:
        await self.send(text_data=encode(frame))


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket path: accepted and closed with 4404, so a client sees why."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=int(CloseCode.UNKNOWN_PATH))


def _requested_customer(query_string: bytes) -> int | None:
    values = parse_qs(query_string.decode("latin-1")).get("customer")
    return int(values[0]) if values else None

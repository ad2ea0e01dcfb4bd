"""`PortalConsumer`: the `/ws/realtime/` endpoint of docs/protocol.md.

The consumer owns the socket's lifecycle and dispatches frames; it delegates the change stream
to `Stream` (cursor, topics, catch-up), presence and typing to `RoomMember`, access to
`realtime.access`, and all periodic work to its process's hub (`realtime.hub`): an idle socket
runs no task and makes no query. Frame shapes and codes are `realtime.protocol`'s.

Messages reach the handlers, one at a time, from two queues: the client's frames, and the
socket's inbox, where the hub's router puts what the channel layer brought for it (changes,
presence, typing, re-checks, closes) and the hub's tailer its repairs. The socket has no
channel of its own on the layer. Whatever way the consumer ends (a close, a crash, daphne
killing it, shutdown), `release` runs.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from realtime import access, attendance, registry
from realtime.handshake import session_key_of
from realtime.hub import INBOX_SIZE, ShuttingDown, hub
from realtime.limits import InboundLimit, Verdict
from realtime.protocol import (
    ClientFrame,
    CloseCode,
    ErrorCode,
    ProtocolError,
    ServerFrame,
    encode,
    error_frame,
    parse_client_frame,
)
from realtime.room import RoomMember
from realtime.stream import Stream
from realtime.threads import read_in_thread

logger = logging.getLogger(__name__)


class PortalConsumer(AsyncWebsocketConsumer):
    # Set by a successful handshake; None on a socket that was refused (and is being closed).
    customer_id: int | None
    user_id: int | None
    session_key: str | None
    requested: int | None  # the `?customer=` a staff socket asked for
    stream: Stream | None
    room: RoomMember | None
    inbox: asyncio.Queue[dict[str, Any]]
    released: bool
    inbound: InboundLimit | None  # the client's frame rate, from the handshake on

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer_id = None
        self.user_id = None
        self.session_key = None
        self.requested = None
        self.stream = None
        self.room = None
        self.inbox = asyncio.Queue(maxsize=INBOX_SIZE)
        self.released = False
        self.inbound = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # channels' AsyncConsumer.__call__, with the inbox (what the hub's router and tailer hand
        # over) in place of a channel of its own on the layer, and a release on every exit.
        self.scope = scope
        layer = get_channel_layer(self.channel_layer_alias)
        if layer is None:
            raise ImproperlyConfigured("The realtime consumer needs a channel layer (CHANNEL_LAYERS).")
        self.channel_layer = layer
        self.channel_name = f"socket.{uuid.uuid4().hex}"  # the socket's name in the hub and rooms
        self.base_send = send
        try:
            sources: list[Callable[[], Awaitable[Any]]] = [receive, self.inbox.get]
            await await_many_dispatch(sources, self.dispatch)
        except StopConsumer:
            pass
        finally:
            await self.release()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Unlike channels' dispatch, no database round trip per message: handlers that query go
        # through read_in_thread, which manages connections itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        try:
            await handler(message)
        except StopConsumer:
            raise
        except Exception:
            # A database error or a bug: close with 1011 ("try again later") and clean up,
            # rather than leave a half-dead handler behind.
            logger.exception("realtime: socket handler failed on %s", message.get("type"))
            try:
                await self.close_with(CloseCode.SERVER_ERROR)
            except Exception:
                logger.debug("realtime: could not send the close", exc_info=True)
            raise StopConsumer from None

    async def connect(self) -> None:
        # Accept first, then close with a code: a refused handshake shows browsers only 1006,
        # which reads as "network down" and makes clients retry forever.
        await self.accept()
        if hub().draining:  # the process is shutting down: come back to another (or this one, restarted)
            await self.close_with(CloseCode.SERVICE_RESTART)
            return
        try:
            self.requested = _requested_customer(self.scope.get("query_string", b""))
        except ValueError:
            await self.close_with(CloseCode.FORBIDDEN)
            return
        admitted = await hub().admissions((session_key_of(self.scope), self.requested))
        if isinstance(admitted, CloseCode):
            await self.close_with(admitted)
            return
        if hub().sockets_of_user(admitted.user_id) >= settings.REALTIME_MAX_SOCKETS_PER_USER:
            await self.close_with(CloseCode.TOO_MANY_SOCKETS)
            return
        customer_id, last_seq, pruned_through = (
            admitted.customer_id,
            admitted.last_seq,
            admitted.pruned_through,
        )
        self.customer_id, self.user_id, self.session_key = customer_id, admitted.user_id, admitted.session_key
        self.stream = Stream(customer_id, last_seq, self.send_frame, pruned_through=pruned_through)
        self.room = RoomMember(
            self.channel_layer,
            self.channel_name,
            customer_id,
            admitted.user_id,
            watching=self.requested is not None,
            on_change=hub().presence_changed,
        )
        now = asyncio.get_running_loop().time()
        self.inbound = InboundLimit(settings.REALTIME_FRAMES_PER_SECOND, settings.REALTIME_FRAME_BURST, now)
        try:
            # A change committed between the read above and the hub taking the socket is not
            # lost: the next frame shows the gap, or the hub's tailer finds it.
            await hub().register(self)
        except ShuttingDown:
            await self.close_with(CloseCode.SERVICE_RESTART)
            return
        except Exception:
            logger.warning("realtime: the channel layer is unavailable", exc_info=True)
            await self.close_with(CloseCode.SERVER_ERROR)  # "try again later"
            return
        await self.send_frame(
            {"type": "hello", "customer": customer_id, "seq": last_seq, "topics": registry.topics()}
        )

    async def disconnect(self, code: int) -> None:
        await self.release()

    async def release(self) -> None:
        """Leave the hub and the room, each on its own, so one failing (Redis away) does not skip
        the other. Safe to call more than once."""
        if self.released:
            return
        self.released = True
        hub().unregister(self)
        await attendance.closed(self)  # before leaving: emails skip what this tab showed
        if self.room is not None:
            try:
                await self.room.leave()
            except Exception:
                logger.warning("realtime: leaving presence failed", exc_info=True)

    # --- what the hub reads and posts -------------------------------------------------------

    @property
    def cursor(self) -> int:
        return self.stream.cursor if self.stream is not None else 0

    def presence_entry(self) -> dict[str, Any] | None:
        return self.room.entry if self.room is not None else None

    def post(self, message: dict[str, Any]) -> bool:
        """Queue a hub message for the handlers; False if the inbox is full (the hub retries)."""
        try:
            self.inbox.put_nowait(message)
        except asyncio.QueueFull:
            return False
        return True

    # --- client frames ----------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.stream is None or self.room is None or self.inbound is None:
            return  # refused at connect; the close is on its way
        # Before parsing: a flood must cost next to nothing per frame.
        verdict = self.inbound.check(asyncio.get_running_loop().time())
        if verdict is not Verdict.ACCEPT:
            await self.refuse_flood(verdict)
            return
        try:
            frame = parse_client_frame(text_data, bytes_data, known_topics=registry.topics())
            await self.handle(frame, self.stream, self.room)
        except ProtocolError as error:
            await self.send_frame(error_frame(error))

    async def refuse_flood(self, verdict: Verdict) -> None:
        if verdict is Verdict.WARN:
            limit = settings.REALTIME_FRAMES_PER_SECOND
            await self.send_frame(
                {
                    "type": "error",
                    "code": ErrorCode.RATE_LIMITED,
                    "message": f"More than {limit:g} frames a second: slow down, or the socket is closed.",
                }
            )
        elif verdict is Verdict.CLOSE:
            await self.close_with(CloseCode.POLICY)

    async def handle(self, frame: ClientFrame, stream: Stream, room: RoomMember) -> None:
        if frame["type"] == "subscribe":
            await stream.subscribe(frame["topics"], frame.get("since"))
        elif frame["type"] == "unsubscribe":
            await stream.unsubscribe(frame["topics"])
        elif frame["type"] == "ping":
            # From memory: only a change the hub has seen and this socket lacks costs a read.
            known = hub().known_seq(stream.customer_id)
            if known > stream.cursor:
                await stream.catch_up(known)
            await self.send_frame({"type": "pong", "seq": stream.cursor})
        elif frame["type"] == "presence":
            await room.set_status(frame["status"], frame.get("page"))
        elif frame["type"] == "typing":
            await room.typing(frame["typing"])

    # --- channel layer and hub messages -------------------------------------------------------

    async def realtime_changes(self, message: dict[str, Any]) -> None:
        if self.stream is not None:
            await self.stream.receive(message["frames"])

    async def realtime_repair(self, message: dict[str, Any]) -> None:
        if self.stream is not None:
            hub().stats.repaired += await self.stream.receive(message["frames"])
            if self.stream.cursor < message["upto"]:  # more than the hub read, or a pruned hole
                await self.stream.catch_up(message["upto"])

    async def realtime_recheck(self, message: dict[str, Any]) -> None:
        if self.user_id is None or self.customer_id is None:
            return
        grant = access.Grant(self.user_id, self.session_key, self.requested, self.customer_id)
        [code] = await read_in_thread(access.check_all)([grant])
        if code is not None:
            await self.close_with(code)

    async def realtime_close(self, message: dict[str, Any]) -> None:
        await self.close_with(CloseCode(message.get("code", CloseCode.FORBIDDEN)))

    async def realtime_presence(self, message: dict[str, Any]) -> None:
        frame = self.room.presence_frame(message) if self.room is not None else None
        if frame is not None:
            await self.send_frame(frame)

    async def realtime_typing(self, message: dict[str, Any]) -> None:
        frame = self.room.typing_frame(message) if self.room is not None else None
        if frame is not None:
            await self.send_frame(frame)

    async def close_with(self, code: CloseCode) -> None:
        await self.close(code=int(code))  # a plain int: daphne's autobahn refuses int subclasses

    async def send_frame(self, frame: ServerFrame | str) -> None:
        """Send a frame; a str is one already encoded (a change, once for all its sockets)."""
        await self.send(text_data=frame if isinstance(frame, str) else encode(frame))


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket path: accepted and closed with 4404, so a client sees why."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=int(CloseCode.UNKNOWN_PATH))


def _requested_customer(query_string: bytes) -> int | None:
    values = parse_qs(query_string.decode("latin-1")).get("customer")
    return int(values[0]) if values else None

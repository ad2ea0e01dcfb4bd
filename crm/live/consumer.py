"""`StaffConsumer`: `/ws/staff/`, the staff stream of docs/protocol.md ("The staff stream").

The portal's protocol with one topic, `inbox`, numbered across all customers by the staff seq
(`crm.staff_stream`): the same `hello`, `subscribe` with `since`, `change`, `pong`, `resync`,
error frames and close codes. Live frames come over the channel layer (group `staff-stream`);
a jump in seq is filled from the `StaffEvent` log before later frames go out, and every tail
interval the socket reads the latest staff seq (one indexed query) so a change the layer lost
with nothing after it still arrives. Staff sockets are few: the work is per socket, not hub-wide.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AbstractUser

from crm import staff_stream
from crm.live import presence
from realtime import access, customer_presence, lifecycle
from realtime.handshake import session_key_of
from realtime.hub import hub
from realtime.limits import InboundLimit, Verdict
from realtime.protocol import CloseCode, ErrorCode, ProtocolError, encode, error_frame, parse_client_frame
from realtime.publish import REVOCATIONS_GROUP
from realtime.threads import read_in_thread

logger = logging.getLogger(__name__)

PERMISSION = "crm.view_customer"
TOPICS = [staff_stream.TOPIC]


def staff_may_watch(user: AbstractUser | None) -> bool:
    """The staff stream's rule, shared with the inbox page and the header count."""
    return bool(user and user.is_active and user.is_staff and user.has_perm(PERMISSION))


def _admit(session_key: str | None) -> tuple[int | None, CloseCode | None, int]:
    user = access.logins([session_key]).get(session_key) if session_key else None
    if user is None:
        return None, CloseCode.UNAUTHENTICATED, 0
    if not staff_may_watch(user):
        return user.pk, CloseCode.FORBIDDEN, 0
    return user.pk, None, staff_stream.current_seq()


def _still_allowed(session_key: str | None, user_id: int) -> CloseCode | None:
    user = access.logins([session_key]).get(session_key) if session_key else None
    if user is None or user.pk != user_id:
        return CloseCode.UNAUTHENTICATED
    return None if staff_may_watch(user) else CloseCode.FORBIDDEN


# Staff sockets open in this process: per user for the same cap as the portal's sockets, and
# all of them for shutdown.
_open_by_user: Counter[int] = Counter()
_open: set[StaffConsumer] = set()


async def close_for_shutdown() -> None:
    """SIGTERM: close every staff socket of this process with 1012 and wait until they are gone."""
    for socket in list(_open):
        with contextlib.suppress(Exception):
            await socket.close(code=int(CloseCode.SERVICE_RESTART))
    while _open:
        await asyncio.sleep(0.05)


lifecycle.also_drain(close_for_shutdown)


class StaffConsumer(AsyncWebsocketConsumer):
    user_id: int | None
    session_key: str | None
    cursor: int  # every staff change up to here was sent (or the socket was not subscribed)
    subscribed: bool
    inbound: InboundLimit | None
    lock: asyncio.Lock  # the tail task and the handlers both send: one at a time, in seq order
    tail: asyncio.Task[None] | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_id, self.session_key, self.cursor, self.subscribed = None, None, 0, False
        self.inbound, self.tail = None, None
        self.lock = asyncio.Lock()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # The revocations group is the hubs': a kind of message staff sockets do not act on
        # (one added later, say) is not theirs to fail on.
        if message["type"].startswith("realtime.") and not hasattr(self, get_handler_name(message)):
            return
        await super().dispatch(message)

    async def connect(self) -> None:
        await self.accept()  # then close with a code, so browsers see why
        if hub().draining:  # shutting down: come back to another process, or this one restarted
            await self.close(code=int(CloseCode.SERVICE_RESTART))
            return
        self.session_key = session_key_of(self.scope)
        user_id, refusal, seq = await read_in_thread(_admit)(self.session_key)
        if refusal is not None:
            await self.close(code=int(refusal))
            return
        if user_id is not None and _open_by_user[user_id] >= settings.REALTIME_MAX_SOCKETS_PER_USER:
            await self.close(code=int(CloseCode.TOO_MANY_SOCKETS))
            return
        self.user_id, self.cursor = user_id, seq
        _open_by_user[self.user_id or 0] += 1
        _open.add(self)
        self.inbound = InboundLimit(
            settings.REALTIME_FRAMES_PER_SECOND,
            settings.REALTIME_FRAME_BURST,
            asyncio.get_running_loop().time(),
        )
        try:
            await self.channel_layer.group_add(staff_stream.GROUP, self.channel_name)
            # Logout, deactivation and permission changes are announced here (realtime.revocation).
            await self.channel_layer.group_add(REVOCATIONS_GROUP, self.channel_name)
            await self.channel_layer.group_add(customer_presence.GROUP, self.channel_name)
        except Exception:
            logger.warning("staff stream: the channel layer is unavailable", exc_info=True)
            await self.close(code=int(CloseCode.SERVER_ERROR))
            return
        self.tail = asyncio.create_task(self.follow())
        await self.send_json({"type": "hello", "stream": "staff", "seq": seq, "topics": TOPICS})

    async def disconnect(self, code: int) -> None:
        _open.discard(self)
        if self.tail is not None:
            self.tail.cancel()
        if self.user_id is not None:
            _open_by_user[self.user_id] -= 1
            if _open_by_user[self.user_id] <= 0:
                del _open_by_user[self.user_id]
            self.user_id = None  # counted once, however often disconnect runs
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(staff_stream.GROUP, self.channel_name)
                await self.channel_layer.group_discard(REVOCATIONS_GROUP, self.channel_name)
                await self.channel_layer.group_discard(customer_presence.GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.inbound is None:
            return
        verdict = self.inbound.check(asyncio.get_running_loop().time())
        if verdict is Verdict.CLOSE:
            await self.close(code=int(CloseCode.POLICY))
            return
        if verdict is not Verdict.ACCEPT:
            if verdict is Verdict.WARN:
                await self.send_json(
                    {"type": "error", "code": ErrorCode.RATE_LIMITED, "message": "Slow down."}
                )
            return
        try:
            frame = parse_client_frame(text_data, bytes_data, known_topics=TOPICS)
        except ProtocolError as error:
            await self.send_json(error_frame(error))
            return
        async with self.lock:
            if frame["type"] == "subscribe":
                await self.subscribe(frame.get("since"))
            elif frame["type"] == "unsubscribe":
                self.subscribed = False
                await self.send_json({"type": "subscribed", "topics": [], "seq": self.cursor})
            elif frame["type"] == "ping":
                await self.catch_up(None)
                await self.send_json({"type": "pong", "seq": self.cursor})
            else:  # presence and typing belong to a customer's room (/ws/realtime/?customer=)
                message = "The staff stream has no presence or typing; use /ws/realtime/?customer=<id>."
                await self.send_json({"type": "error", "code": ErrorCode.UNKNOWN_TYPE, "message": message})

    async def subscribe(self, since: int | None) -> None:
        latest = await read_in_thread(staff_stream.current_seq)()
        if since is not None and since > latest:
            reason = f"since {since} is ahead of the staff stream ({latest})"
            await self.send_json({"type": "resync", "reason": reason, "seq": latest})
            return
        self.subscribed = True
        if since is not None:
            self.cursor = since
        await self.catch_up(None)
        await self.send_json({"type": "subscribed", "topics": TOPICS, "seq": self.cursor})
        await self.send_json(await presence.snapshot())  # who of the inbox has the portal open

    async def catch_up(self, upto: int | None) -> None:
        """Send what the log holds after the cursor (through `upto`, or all of it)."""
        while True:
            frames = await read_in_thread(staff_stream.events_after)(self.cursor, upto)
            if not frames:
                if upto is not None:
                    self.cursor = max(self.cursor, upto)
                return
            for frame in frames:
                await self.deliver(frame)

    async def deliver(self, frame: dict[str, Any]) -> None:
        if frame["seq"] <= self.cursor:
            return
        self.cursor = frame["seq"]
        if self.subscribed:
            await self.send_json(frame)

    async def staff_changes(self, message: dict[str, Any]) -> None:
        async with self.lock:
            for frame in message["frames"]:
                if frame["seq"] <= self.cursor:
                    continue  # already sent (by a repair)
                if frame["seq"] > self.cursor + 1:  # the layer lost some: fill the gap from the log
                    await self.catch_up(frame["seq"] - 1)
                await self.deliver(frame)
            if self.subscribed and (customers := presence.new_item_customers(message["frames"])):
                await self.send_json(await customer_presence.current(customers))

    async def staff_customer_presence(self, message: dict[str, Any]) -> None:
        """A customer's portal tabs changed (not numbered: presence is not in the staff seq)."""
        if self.subscribed:
            await self.send_json(message["frame"])

    async def realtime_recheck(self, message: dict[str, Any]) -> None:
        """A user saved or permissions changed somewhere: re-check this socket's access now."""
        if message.get("watchers") or message.get("user") == self.user_id:
            code = await read_in_thread(_still_allowed)(self.session_key, self.user_id or 0)
            if code is not None:
                await self.close(code=int(code))

    async def realtime_close(self, message: dict[str, Any]) -> None:
        """A logout (this session) or a deleted user (this user)."""
        session = message.get("session")
        if message.get("user") == self.user_id or (session is not None and session == self.session_key):
            await self.close(code=int(message.get("code", CloseCode.FORBIDDEN)))

    async def follow(self) -> None:
        """Repair and re-check on a timer: a lost frame with nothing after it, lost access."""
        loop = asyncio.get_running_loop()
        next_check = loop.time() + settings.REALTIME_CHECK_INTERVAL
        while True:
            await asyncio.sleep(settings.REALTIME_TAIL_INTERVAL)
            try:
                latest = await read_in_thread(staff_stream.current_seq)()
                if latest > self.cursor:
                    async with self.lock:
                        await self.catch_up(None)
                if loop.time() >= next_check:
                    next_check = loop.time() + settings.REALTIME_CHECK_INTERVAL
                    code = await read_in_thread(_still_allowed)(self.session_key, self.user_id or 0)
                    if code is not None:
                        await self.close(code=int(code))
                        return
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("staff stream: repair failed; trying again", exc_info=True)

    async def send_json(self, frame: Any) -> None:
        await self.send(text_data=encode(frame))

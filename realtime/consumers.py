"""`PortalConsumer`: the `/ws/realtime/` endpoint of docs/protocol.md.

Per socket it keeps one cursor: every event of its customer with seq <= cursor has been handled
(sent if its topic is subscribed, skipped otherwise). Frames from the channel layer that jump
past cursor + 1 mean the layer lost something; the gap is read back from the outbox first, so a
socket only ever sends a topic's changes in increasing seq, each once. Handlers run one at a
time per consumer (Channels dispatches serially), so the cursor needs no lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user, get_user_model
from django.utils.module_loading import import_string

from realtime import access, presence, publish, registry, sequence
from realtime.capture import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from realtime.models import OutboxEvent

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16 * 1024
REPLAY_BATCH = 500
TYPING_MIN_INTERVAL = 1.0  # seconds between repeated identical typing frames from one socket


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PortalConsumer(AsyncWebsocketConsumer):
    customer_id: int | None = None
    presence_entry: dict[str, Any] | None = None
    last_typing: tuple[bool, float] = (False, 0.0)

    async def connect(self) -> None:
        # Accept first, then close with a code: a refused handshake shows browsers only 1006,
        # which reads as "network down" and makes clients retry forever.
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            self.requested = _requested_customer(self.scope)
        except ValueError:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        customer_id = await database_sync_to_async(access.customer_for)(user, self.requested)
        if customer_id is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.customer_id = customer_id
        self.user_id = user.pk
        self.session_key = getattr(self.scope.get("session"), "session_key", None)
        self.topics: dict[str, int] = {}  # topic -> floor: frames at or below it are not sent
        self.groups_joined = [publish.customer_group(customer_id), publish.user_group(user.pk)]
        if self.session_key:
            self.groups_joined.append(publish.session_group(self.session_key))
        if self.requested is not None:  # access that rests on permissions, re-checked when they change
            self.groups_joined.append(publish.WATCHERS_GROUP)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        # Joined before reading the seq, so nothing can slip between the two.
        self.cursor, _pruned = await database_sync_to_async(sequence.current)(customer_id)
        await self.send_frame(
            {"type": "hello", "customer": customer_id, "seq": self.cursor, "topics": registry.topics()}
        )
        self.checker = asyncio.create_task(self._check_periodically())

    async def disconnect(self, code: int) -> None:
        if self.presence_entry is not None:
            await self.leave_presence()
        checker = getattr(self, "checker", None)
        if checker is not None:
            checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checker
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    # --- client frames ----------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.customer_id is None:
            return
        try:
            await self.handle_frame(_parse_frame(text_data, bytes_data))
        except ProtocolError as error:
            await self.send_frame({"type": "error", "code": error.code, "message": error.message})

    async def handle_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "subscribe":
            await self.subscribe(_topics(frame), _since(frame))
        elif kind == "unsubscribe":
            for topic in _topics(frame):
                self.topics.pop(topic, None)
            await self.send_frame({"type": "subscribed", "topics": sorted(self.topics), "seq": self.cursor})
        elif kind == "ping":
            if await self.check_access():
                await self.catch_up()
                await self.refresh_presence()
                await self.send_frame({"type": "pong", "seq": self.cursor})
        elif kind == "presence":
            await self.set_presence(frame.get("status"))
        elif kind == "typing":
            await self.broadcast_typing(frame.get("typing"))
        else:
            raise ProtocolError(
                "unknown_type",
                f"Unknown frame type {kind!r}; expected subscribe, unsubscribe, ping, presence or typing.",
            )

    async def subscribe(self, topics: list[str], since: int | None) -> None:
        last_seq, pruned_through = await database_sync_to_async(sequence.current)(self.customer_id)
        if since is not None and since > last_seq:
            await self.send_resync(f"since={since} is ahead of the latest seq {last_seq}", last_seq)
            return
        if since is not None and since < pruned_through:
            await self.send_resync(f"changes after seq {since} are no longer retained", last_seq)
            return
        floor = self.cursor if since is None else since
        for topic in topics:
            self.topics[topic] = floor
        await self.send_frame({"type": "subscribed", "topics": sorted(self.topics), "seq": self.cursor})
        if floor < self.cursor:  # backlog of the newly added topics, up to where the socket is
            await self.replay(floor, self.cursor, only=set(topics))
            _last, pruned_through = await database_sync_to_async(sequence.current)(self.customer_id)
            if pruned_through > floor:  # retention ran during the replay: part of it may be gone
                await self.send_resync(f"changes after seq {floor} are no longer retained", self.cursor)
        await self.catch_up(last_seq)

    # --- delivery ---------------------------------------------------------------------------

    async def realtime_changes(self, message: dict[str, Any]) -> None:
        for frame in message["frames"]:
            seq = frame["seq"]
            if seq <= self.cursor:
                continue  # already handled: a repeat, or filled in from the outbox earlier
            if seq > self.cursor + 1:
                await self.catch_up(seq - 1)  # the layer lost something: fill the gap first
                if seq <= self.cursor:
                    continue
            await self.deliver(frame)

    async def deliver(self, frame: dict[str, Any]) -> None:
        floor = self.topics.get(frame["topic"])
        if floor is not None and frame["seq"] > floor:
            await self.send_frame(frame)
        self.cursor = max(self.cursor, frame["seq"])

    async def catch_up(self, upto: int | None = None) -> None:
        """Deliver every event in (cursor, upto] from the outbox; upto defaults to the latest."""
        if upto is None:
            upto, _pruned = await database_sync_to_async(sequence.current)(self.customer_id)
        while self.cursor < upto:
            frames = await _outbox_frames(self.customer_id, self.cursor, upto, topics=None)
            if not frames:
                frames = [{"seq": None}]  # nothing left to read: as good as a hole
            for frame in frames:
                if frame["seq"] != self.cursor + 1:  # pruned meanwhile: cannot be filled
                    await self.send_resync(f"changes after seq {self.cursor} are no longer retained", upto)
                    self.cursor = upto
                    return
                await self.deliver(frame)

    async def replay(self, after: int, upto: int, *, only: set[str]) -> None:
        while after < upto:
            frames = await _outbox_frames(self.customer_id, after, upto, topics=only)
            if not frames:
                return
            for frame in frames:
                await self.send_frame(frame)
            after = frames[-1]["seq"]

    async def send_resync(self, reason: str, seq: int) -> None:
        await self.send_frame({"type": "resync", "reason": reason, "seq": seq})

    # --- access -----------------------------------------------------------------------------

    async def check_access(self) -> bool:
        code = await database_sync_to_async(self._access_lost)()
        if code is None:
            return True
        await self.close(code=code)
        return False

    def _access_lost(self) -> int | None:
        """The close code if this socket's user may no longer watch its customer, else None."""
        user = get_user_model()._default_manager.filter(pk=self.user_id).first()
        if user is None or not user.is_active:
            return CLOSE_FORBIDDEN
        if self.session_key:
            # What an HTTP request with this cookie would get: logout, expiry, a flushed session
            # and a changed password (the session's auth hash) all end the login.
            store = import_string(settings.SESSION_ENGINE + ".SessionStore")(self.session_key)
            if get_user(SimpleNamespace(session=store)).pk != self.user_id:
                return CLOSE_UNAUTHENTICATED
        if access.customer_for(user, self.requested) != self.customer_id:
            return CLOSE_FORBIDDEN
        return None

    async def realtime_recheck(self, message: dict[str, Any]) -> None:
        await self.check_access()

    async def realtime_close(self, message: dict[str, Any]) -> None:
        await self.close(code=message.get("code", CLOSE_FORBIDDEN))

    async def realtime_tick(self, message: dict[str, Any]) -> None:
        if await self.check_access():
            await self.catch_up()
            await self.refresh_presence()

    # --- presence and typing (ephemeral: never stored in the outbox) --------------------------

    async def set_presence(self, status: Any) -> None:
        if status == "offline":
            if self.presence_entry is not None:
                await self.leave_presence()
            return
        if status not in presence.PRESENCE_STATUSES:
            raise ProtocolError(
                "bad_status", f'"status" must be one of {[*presence.PRESENCE_STATUSES, "offline"]}.'
            )
        if not hasattr(self, "identity"):
            self.identity = await database_sync_to_async(self._identity)()
        self.presence_entry = presence.entry_for(**self.identity, status=status)
        online = await presence.store().put(self.customer_id, self.channel_name, self.presence_entry)
        await self.channel_layer.group_send(
            publish.customer_group(self.customer_id), {"type": "realtime.presence", "online": online}
        )

    async def refresh_presence(self) -> None:
        if self.presence_entry is not None:
            self.presence_entry = presence.entry_for(**self.identity, status=self.presence_entry["status"])
            await presence.store().put(self.customer_id, self.channel_name, self.presence_entry)

    async def leave_presence(self) -> None:
        self.presence_entry = None
        online = await presence.store().remove(self.customer_id, self.channel_name)
        await self.channel_layer.group_send(
            publish.customer_group(self.customer_id), {"type": "realtime.presence", "online": online}
        )

    def _identity(self) -> dict[str, str]:
        # The server names people; a client cannot claim to be staff or someone else.
        user = get_user_model()._default_manager.get(pk=self.user_id)
        if self.requested is not None and user.is_staff:
            return {
                "user_key": f"user-{user.pk}",
                "name": user.get_full_name() or user.get_username(),
                "role": "staff",
            }
        owner = registry.owner().model._default_manager.get(pk=self.customer_id)
        return {"user_key": f"user-{user.pk}", "name": str(owner), "role": "customer"}

    async def realtime_presence(self, message: dict[str, Any]) -> None:
        if self.presence_entry is not None:
            await self.send_frame({"type": "presence", "online": message["online"]})

    async def broadcast_typing(self, typing: Any) -> None:
        if not isinstance(typing, bool):
            raise ProtocolError("bad_typing", '"typing" must be true or false.')
        now = asyncio.get_running_loop().time()
        previous, at = self.last_typing
        if typing == previous and now - at < TYPING_MIN_INTERVAL:
            return  # a keystroke burst: the others already know
        self.last_typing = (typing, now)
        if not hasattr(self, "identity"):
            self.identity = await database_sync_to_async(self._identity)()
        await self.channel_layer.group_send(
            publish.customer_group(self.customer_id),
            {
                "type": "realtime.typing",
                "sender": self.channel_name,
                "user": self.identity["user_key"],
                "name": self.identity["name"],
                "role": self.identity["role"],
                "typing": typing,
            },
        )

    async def realtime_typing(self, message: dict[str, Any]) -> None:
        if message["sender"] != self.channel_name and "messages" in self.topics:
            await self.send_frame(
                {
                    "type": "typing",
                    "user": message["user"],
                    "name": message["name"],
                    "role": message["role"],
                    "typing": message["typing"],
                }
            )

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

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, separators=(",", ":")))


# --- parsing ------------------------------------------------------------------------------------


def _requested_customer(scope: dict[str, Any]) -> int | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("customer")
    return int(values[0]) if values else None


def _parse_frame(text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
    if text_data is None:
        raise ProtocolError("bad_frame", "Send JSON text frames; binary frames are not accepted.")
    # Measured in bytes, as documented: a str's length counts characters, and a non-ASCII
    # frame can be several times longer in bytes than in characters.
    if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode()) > MAX_FRAME_BYTES:
        raise ProtocolError("too_large", f"Frames are at most {MAX_FRAME_BYTES} bytes.")
    try:
        frame = json.loads(text_data)
    except ValueError:
        raise ProtocolError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise ProtocolError("bad_frame", 'A frame is a JSON object with a string "type".')
    return frame


def _topics(frame: dict[str, Any]) -> list[str]:
    topics = frame.get("topics")
    if not isinstance(topics, list) or not topics or not all(isinstance(t, str) for t in topics):
        raise ProtocolError("bad_topics", '"topics" must be a non-empty list of topic names.')
    unknown = sorted(set(topics) - set(registry.topics()))
    if unknown:
        raise ProtocolError(
            "unknown_topic",
            f"Unknown topics {unknown}; known: {sorted(registry.topics())}.",
        )
    return list(dict.fromkeys(topics))


def _since(frame: dict[str, Any]) -> int | None:
    since = frame.get("since")
    if since is None:
        return None
    if isinstance(since, bool) or not isinstance(since, int) or since < 0:
        raise ProtocolError("bad_since", '"since" must be a whole number >= 0.')
    return since


@database_sync_to_async
def _outbox_frames(
    customer_id: int, after: int, upto: int, *, topics: set[str] | None
) -> list[dict[str, Any]]:
    rows = OutboxEvent.objects.filter(customer_id=customer_id, seq__gt=after, seq__lte=upto)
    if topics is not None:
        rows = rows.filter(topic__in=topics)
    return [row.as_frame() for row in rows.order_by("seq")[:REPLAY_BATCH]]

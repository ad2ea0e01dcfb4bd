"""`Stream`: one socket's position in its customer's change stream, and how it catches up.

The cursor says every event of the customer with seq <= cursor has been handled (sent if its
topic is subscribed, skipped otherwise). Frames from the channel layer that jump past
cursor + 1 mean the layer lost something; the gap is read back from the outbox first, so a
socket only ever sends a topic's changes in increasing seq, each once. The consumer calls a
stream from its handlers, which Channels runs one at a time, so the cursor needs no lock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import cast

from django.db import connection

from realtime import sequence
from realtime.batching import Batcher
from realtime.models import OutboxEvent
from realtime.protocol import ChangeFrame, EncodedChange, ServerFrame
from realtime.threads import read_in_thread

REPLAY_BATCH = 500

# A frame to send, or a change frame already encoded as text.
Send = Callable[[ServerFrame | str], Awaitable[None]]
Change = ChangeFrame | EncodedChange


def read_frames(customer_id: int, after: int, upto: int) -> list[ChangeFrame]:
    """Change frames (after, upto] from the outbox, in seq order, at most REPLAY_BATCH of them."""
    rows = OutboxEvent.objects.filter(customer_id=customer_id, seq__gt=after, seq__lte=upto)
    return [row.as_frame() for row in rows.order_by("seq")[:REPLAY_BATCH]]


Range = tuple[int, int, int]  # (customer, after, upto)
_OUTBOX = OutboxEvent._meta.db_table


def read_many(ranges: list[Range]) -> list[list[ChangeFrame]]:
    """`read_frames` for each range: in one statement on PostgreSQL, since a reconnect storm
    resumes hundreds of sockets within a second; one query each elsewhere."""
    if connection.vendor != "postgresql":
        return [read_frames(*each) for each in ranges]
    values = ", ".join(["(%s::int, %s::bigint, %s::bigint, %s::bigint)"] * len(ranges))
    rows = OutboxEvent.objects.raw(
        f"SELECT e.*, r.n AS request FROM (VALUES {values}) AS r(n, customer_id, after, upto) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT * FROM {_OUTBOX} o WHERE o.customer_id = r.customer_id "
        f"AND o.seq > r.after AND o.seq <= r.upto ORDER BY o.seq LIMIT {REPLAY_BATCH}) AS e "
        "ORDER BY r.n, e.seq",
        [value for n, each in enumerate(ranges) for value in (n, *each)],
    )
    frames: list[list[ChangeFrame]] = [[] for _ in ranges]
    for row in rows:
        frames[row.request].append(row.as_frame())  # type: ignore[attr-defined]  # the query's column
    return frames


# Reads only: beside each other on worker threads, and those asked for together in one batch.
_read_frames: Batcher[Range, list[ChangeFrame]] = Batcher(read_many, in_flight=4)
_position = read_in_thread(sequence.current)


def _as_sent(frame: Change) -> ServerFrame | str:
    """An EncodedChange goes out as the writer's text; a frame read here is encoded on sending."""
    text = frame.get("text")
    return text if isinstance(text, str) else cast(ChangeFrame, frame)


class Stream:
    def __init__(self, customer_id: int, cursor: int, send: Send, *, pruned_through: int = 0) -> None:
        self.customer_id = customer_id
        self.cursor = cursor
        self.send = send
        # As of the handshake; it only grows, and a replay re-checks it.
        self.pruned_through = pruned_through
        # topic -> floor: frames of the topic at or below it are not sent
        self.floors: dict[str, int] = {}

    @property
    def topics(self) -> list[str]:
        return sorted(self.floors)

    async def subscribe(self, topics: list[str], since: int | None) -> None:
        """Add topics from `since` (or from the cursor), then say `subscribed`: its seq is the
        cursor after the backlog, so every change up to it has been sent when it arrives.

        Resuming from the socket's own position (the usual reconnect) reads nothing."""
        last_seq = self.cursor
        if since is not None and since > self.cursor:
            # The client knows of changes after this socket's start: ask where the customer is.
            last_seq, self.pruned_through = await _position(self.customer_id)
            if since > last_seq:
                await self.resync(f"since={since} is ahead of the latest seq {last_seq}", last_seq)
                return
        if since is not None and since < self.pruned_through:
            await self.resync(f"changes after seq {since} are no longer retained", max(last_seq, self.cursor))
            return
        floor = self.cursor if since is None else since
        for topic in topics:
            self.floors[topic] = floor
        # The backlog of the newly added topics, up to where the socket is; a hole in it means
        # retention ran meanwhile, and the customer's position says whether it took the backlog.
        if floor < self.cursor and not await self.replay(floor, self.cursor, only=set(topics)):
            _last, self.pruned_through = await _position(self.customer_id)
            if self.pruned_through > floor:
                await self.resync(f"changes after seq {floor} are no longer retained", self.cursor)
        await self.catch_up(last_seq)
        await self.send({"type": "subscribed", "topics": self.topics, "seq": self.cursor})

    async def unsubscribe(self, topics: Iterable[str]) -> None:
        for topic in topics:
            self.floors.pop(topic, None)
        await self.send({"type": "subscribed", "topics": self.topics, "seq": self.cursor})

    async def receive(self, frames: Iterable[Change]) -> int:
        """Frames from the channel layer or the hub: drop repeats, fill gaps from the outbox
        first. Returns how many of them this socket still lacked."""
        lacked = 0
        for frame in frames:
            seq = frame["seq"]
            if seq <= self.cursor:
                continue  # already handled: a repeat, or filled in from the outbox earlier
            if seq > self.cursor + 1:
                await self.catch_up(seq - 1)  # the layer lost something: fill the gap first
                if seq <= self.cursor:
                    continue
            await self.deliver(frame)
            lacked += 1
        return lacked

    async def deliver(self, frame: Change) -> None:
        floor = self.floors.get(frame["topic"])
        if floor is not None and frame["seq"] > floor:
            await self.send(_as_sent(frame))
        self.cursor = max(self.cursor, frame["seq"])

    async def catch_up(self, upto: int | None = None) -> None:
        """Deliver every event in (cursor, upto] from the outbox; upto defaults to the latest."""
        if upto is None:
            upto, _pruned = await _position(self.customer_id)
        while self.cursor < upto:
            frames = await _read_frames((self.customer_id, self.cursor, upto))
            if not await self._deliver_contiguous(frames):
                # A hole, or nothing left to read: pruned meanwhile, so it cannot be filled.
                await self.resync(f"changes after seq {self.cursor} are no longer retained", upto)
                self.cursor = upto
                return

    async def _deliver_contiguous(self, frames: list[ChangeFrame]) -> bool:
        """Deliver frames while each is the next seq; False at the first hole (or if none)."""
        for frame in frames:
            if frame["seq"] != self.cursor + 1:
                return False
            await self.deliver(frame)
        return bool(frames)

    async def replay(self, after: int, upto: int, *, only: set[str]) -> bool:
        """Send the backlog of the topics `only` in (after, upto]. True if every seq of the range
        was read, so retention removed none of it; the range is read whole to know that."""
        whole = True
        while after < upto:
            frames = await _read_frames((self.customer_id, after, upto))
            if not frames:
                return False
            whole = whole and all(frame["seq"] == after + n for n, frame in enumerate(frames, start=1))
            for frame in frames:
                if frame["topic"] in only:
                    await self.send(frame)
            after = frames[-1]["seq"]
        return whole

    async def resync(self, reason: str, seq: int) -> None:
        await self.send({"type": "resync", "reason": reason, "seq": seq})

"""Shared test helpers: logged-in sockets that check every frame, and the snapshot/apply pair.

Every frame a test receives through `Socket` (in-process) or `record_text` (a real client
against daphne) is checked at once against docs/protocol.md's frame shapes and the portal
serializers' field lists, and appended to `RECORDED`; `tests/realtime/conftest.py` re-checks
each test's share of the stream when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, get_args

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from realtime import protocol, registry, sequence

TOPICS = tuple(registry.topics())

# What a customer may see, per topic: exactly the registry serializers' field lists.
FIELD_ORDER: dict[str, list[str]] = {entry.topic: entry.fields for entry in registry.entries()}
TOPIC_FIELDS: dict[str, set[str]] = {topic: set(fields) for topic, fields in FIELD_ORDER.items()}

# Each server frame's keys, from its type in realtime/protocol.py (the consumer builds them).
FRAME_KEYS: dict[str, set[str]] = {
    kind: set(frame.__required_keys__) | set(frame.__optional_keys__)
    for kind, frame in protocol.SERVER_FRAMES.items()
}
OPS = set(get_args(protocol.Op))

# Tests put these markers into staff-only data (internal notes, numbers of drafts that are never
# sent); none may ever appear in a frame, nor may the names of internal columns (nor a customer's
# calendar feed, whose token is a credential).
INTERNAL_NOTE = "INTERNAL-SECRET: gate code 4711, customer is difficult"
HIDDEN_DRAFT_PREFIX = "HIDDEN-DRAFT-"
FORBIDDEN_TEXT = (
    "internal_notes",
    "INTERNAL-SECRET",
    HIDDEN_DRAFT_PREFIX,
    '"author"',
    "updated_at",
    "deleted_at",
    "portal_user",
    "password",
    '"draft"',
    "calendar_feed",
)

RECORDED: list[dict[str, Any]] = []


def check_row(topic: str, row: dict[str, Any]) -> None:
    assert set(row) == TOPIC_FIELDS[topic], (topic, sorted(row))


def check_frame(frame: dict[str, Any], raw: str | None = None) -> None:
    """Fail if a frame has a shape docs/protocol.md does not allow or shows anything internal."""
    raw = raw if raw is not None else json.dumps(frame)
    for text in FORBIDDEN_TEXT:
        assert text not in raw, f"{text!r} leaked in {raw}"
    kind = frame.get("type")
    assert kind in FRAME_KEYS, raw
    assert set(frame) == FRAME_KEYS[kind], raw
    if kind != "change":
        return
    topic = frame["topic"]
    assert topic in TOPIC_FIELDS, raw
    assert frame["op"] in OPS, raw
    assert (
        frame["event"].split(".")[0]
        == {
            "profile": "profile",
            "jobs": "job",
            "invoices": "invoice",
            "messages": "message",
            "loyalty": "loyalty",
            "requests": "request",
        }[topic]
    ), raw
    for side in ("new", "old"):
        if frame[side] is not None:
            check_row(topic, frame[side])
            assert frame[side]["id"] == frame["id"], raw
    assert set(frame["changed"]) <= TOPIC_FIELDS[topic], raw
    if frame["op"] == "insert":
        assert frame["old"] is None and frame["new"] is not None, raw
    elif frame["op"] == "delete":
        assert frame["new"] is None and frame["old"] is not None, raw
    else:
        assert frame["old"] is not None and frame["new"] is not None and frame["changed"], raw
        # In field-list order (rows replayed from the jsonb outbox come with their keys reordered).
        order = FIELD_ORDER[topic]
        assert frame["changed"] == [k for k in order if frame["new"][k] != frame["old"][k]], raw
    if frame["topic"] == "invoices":
        for side in ("new", "old"):
            assert frame[side] is None or frame[side]["status"] != "draft", raw


def record_text(raw: str) -> dict[str, Any]:
    frame = json.loads(raw)
    check_frame(frame, raw)
    RECORDED.append(frame)
    return frame


# --- sockets ------------------------------------------------------------------------------------


class Closed(Exception):
    def __init__(self, code: int | None) -> None:
        super().__init__(f"socket closed with {code}")
        self.code = code


def session_cookie_sync(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


session_cookie = sync_to_async(session_cookie_sync)


def communicator(cookie: str | None = None, query: str = "", origin: bytes = b"http://testserver"):
    headers = [(b"host", b"testserver")] + ([(b"origin", origin)] if origin else [])
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, f"/ws/realtime/{query}", headers=headers)


class Socket:
    """An in-process client of `/ws/realtime/` whose every received frame is checked and recorded."""

    def __init__(self, comm: WebsocketCommunicator) -> None:
        self.comm = comm
        self.hello: dict[str, Any] = {}
        self.closed = False
        self.backlog: list[dict[str, Any]] = []  # frames `subscribe` read before its `subscribed`

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        if self.backlog:
            return self.backlog.pop(0)
        output = await self.comm.receive_output(timeout)
        if output["type"] == "websocket.close":
            self.closed = True
            raise Closed(output.get("code"))
        assert output["type"] == "websocket.send", output
        assert "text" in output, f"server sent a binary frame: {output}"
        return record_text(output["text"])

    async def send(self, frame: dict[str, Any]) -> None:
        await self.comm.send_json_to(frame)

    async def expect(self, kind: str, timeout: float = 5) -> dict[str, Any]:
        frame = await self.recv(timeout)
        assert frame["type"] == kind, frame
        return frame

    async def expect_close(self, timeout: float = 5) -> int | None:
        """Wait for the server to close the socket; returns the code."""
        try:
            frame = await self.recv(timeout)
        except Closed as closed:
            return closed.code
        raise AssertionError(f"expected a close, got {frame}")

    async def subscribe(self, topics=TOPICS, since: int | None = None) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "subscribe", "topics": list(topics)}
        if since is not None:
            frame["since"] = since
        await self.send(frame)
        # The backlog a `since` asks for comes first; `recv` hands it out after this returns.
        frames = []
        while (received := await self.recv())["type"] != "subscribed":
            frames.append(received)
        self.backlog.extend(frames)
        return received

    async def changes(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """The next `count` frames, which must all be changes."""
        return [await self.expect("change", timeout) for _ in range(count)]

    async def changes_through(self, seq: int, timeout: float = 10) -> list[dict[str, Any]]:
        """Change frames until one with `seq` >= the given one (the socket must see every seq)."""
        frames: list[dict[str, Any]] = []
        while not frames or frames[-1]["seq"] < seq:
            frames.append(await self.expect("change", timeout))
        return frames

    async def until_pong(self, timeout: float = 5) -> list[dict[str, Any]]:
        """Every frame until the socket has handled every change committed so far: ping until
        a pong says the socket's position is the customer's latest seq (frames still on their
        way through the layer, or lost and repaired by the hub, come before it)."""
        latest, _pruned = await sync_to_async(sequence.current)(self.hello["customer"])
        frames: list[dict[str, Any]] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            await self.send({"type": "ping"})
            while (frame := await self.recv(timeout))["type"] != "pong":
                frames.append(frame)
            if frame["seq"] >= latest:
                return frames
            assert asyncio.get_running_loop().time() < deadline, f"stuck at {frame['seq']} < {latest}"
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        """Disconnect (also after a server close, so the consumer's disconnect handler runs)."""
        if not self.comm.future.done():
            with contextlib.suppress(TimeoutError):
                await self.comm.disconnect(timeout=5)
        self.closed = True


async def connect(user=None, query: str = "", *, cookie: str | None = None, origin=b"http://testserver"):
    """A socket logged in as `user` that has received its hello frame."""
    if user is not None and cookie is None:
        cookie = await session_cookie(user)
    socket = Socket(communicator(cookie, query, origin))
    connected, _ = await socket.comm.connect(timeout=5)
    assert connected
    socket.hello = await socket.expect("hello")
    return socket

"""How a client talks to each subject: where it connects, how it subscribes, what a change is.

Every change the writer makes has a key that the client can read off the frame, so latency
and delivery are counted per change:

- a job change (this project, the peer): `<job id>:<new start, epoch seconds>`; the writer only
  moves a job forward, so each key is one change;
- a floor message: the key the writer put in it (with the save first, the saved job's key).

Only this project's frames carry a `seq`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

# A frame the client cares about: (change key or None, seq or None, kind)
Parsed = tuple[str | None, int | None, str]


def floor_group(customer: int) -> str:
    """The group of one customer's floor sockets (bench/floor_asgi.py)."""
    return f"floor.{customer}"


def job_key(job_id: int, start: dt.datetime | str) -> str:
    if isinstance(start, str):
        start = dt.datetime.fromisoformat(start)
    return f"{job_id}:{round(start.timestamp())}"


@dataclass(frozen=True)
class Target:
    """One socket's connection details."""

    url: str
    customer_id: int
    headers: dict[str, str]


class Protocol:
    name = ""
    path = ""

    def target(self, port: int, customer_id: int, session_key: str) -> Target:
        origin = f"http://127.0.0.1:{port}"
        headers = {"Cookie": f"sessionid={session_key}", "Origin": origin}
        return Target(f"ws://127.0.0.1:{port}{self.path}", customer_id, headers)

    async def subscribe(self, ws: Any, since: int | None, on_frame: Any) -> int | None:
        """After the socket opens: subscribe, hand every frame before the confirmation to
        `on_frame(raw, received_at)`; returns the seq the socket starts from (or None)."""
        raise NotImplementedError

    def parse(self, raw: str) -> Parsed:
        raise NotImplementedError


class ProjectProtocol(Protocol):
    """docs/protocol.md: hello, subscribe (with `since` when resuming), backlog, subscribed."""

    name = "project"
    path = "/ws/realtime/"

    async def subscribe(self, ws: Any, since: int | None, on_frame: Any) -> int | None:
        import time

        hello = json.loads(await ws.recv())
        if hello.get("type") != "hello":
            raise ConnectionError(f"expected hello, got {hello.get('type')}")
        start = hello["seq"] if since is None else since
        await ws.send(json.dumps({"type": "subscribe", "topics": ["jobs"], "since": start}))
        while True:
            raw = await ws.recv()
            received = time.time()
            kind = json.loads(raw).get("type") if '"change"' not in raw else "change"
            if kind == "subscribed":
                return start
            on_frame(raw, received)
            if kind == "resync":  # `since` refused: the topics were not added
                raise ConnectionError(f"resync in reply to subscribe since={start}")

    def parse(self, raw: str) -> Parsed:
        frame = json.loads(raw)
        kind = frame.get("type", "")
        if kind != "change":
            return None, None, kind
        new = frame.get("new") or {}
        key = job_key(new["id"], new["scheduled_start"]) if new.get("scheduled_start") else None
        return key, frame["seq"], kind


class FloorProtocol(Protocol):
    """bench/floor_asgi.py: connect to the customer's path; `subscribed` once in the group."""

    name = "floor"

    def target(self, port: int, customer_id: int, session_key: str) -> Target:
        return Target(f"ws://127.0.0.1:{port}/ws/floor/{customer_id}/", customer_id, {})

    async def subscribe(self, ws: Any, since: int | None, on_frame: Any) -> int | None:
        frame = json.loads(await ws.recv())
        if frame.get("type") != "subscribed":
            raise ConnectionError(f"expected subscribed, got {frame.get('type')}")
        return None

    def parse(self, raw: str) -> Parsed:
        frame = json.loads(raw)
        return frame.get("key"), None, frame.get("type", "")


class PeerProtocol(Protocol):
    """bench/dcrf_consumer.py: DCRF's action request, answered with the same request_id."""

    name = "peer"
    path = "/ws/peer/"

    async def subscribe(self, ws: Any, since: int | None, on_frame: Any) -> int | None:
        import time

        await ws.send(json.dumps({"action": "subscribe_jobs", "request_id": 1}))
        while True:
            raw = await ws.recv()
            received = time.time()
            frame = json.loads(raw)
            if frame.get("request_id") == 1 and "response_status" in frame:
                if frame["response_status"] != 200:
                    raise ConnectionError(f"subscribe refused: {frame}")
                return None
            on_frame(raw, received)

    def parse(self, raw: str) -> Parsed:
        frame = json.loads(raw)
        new = frame.get("new") or {}
        if frame.get("type") != "change" or not new.get("scheduled_start"):
            return None, None, frame.get("type", "")
        return job_key(new["id"], new["scheduled_start"]), None, "change"


PROTOCOLS: dict[str, type[Protocol]] = {
    "project": ProjectProtocol,
    "floor": FloorProtocol,
    "floor-save": FloorProtocol,
    "peer": PeerProtocol,
}

"""The hub: the one place in a daphne process that does periodic work for its sockets.

- The **tailer** reads, in one query per interval, the outbox events that local sockets' cursors
  lack (per customer: `seq` above the lowest local cursor) and hands them to those sockets. With
  Redis the layer has normally delivered them already; an event still missing after a grace
  period is a repair. On the in-memory layer this is how changes saved by other processes
  (commands, shells) arrive. Per-customer seqs are taken under a row lock and so become visible
  in seq order; reading by (customer, seq) cannot skip a late commit the way "id > last id" can.
- The **sweep** re-checks every local socket's access in a few batched queries and refreshes
  presence entries in one Redis round trip.
- The **heap** step freezes what is alive, so the cycle collector never walks every socket's
  objects at once (`realtime.heap`).

Sockets register when their handshake succeeds and unregister on every exit path; an idle
socket costs nothing. The hub starts with the first socket and stops with the process
(`realtime.lifecycle`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket as socket_module
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings

from realtime import access, attendance, hub_status, presence, tail
from realtime.batching import Batcher
from realtime.handshake import Admission, Request, admissions
from realtime.heap import FREEZE_EVERY, Heap
from realtime.hub_status import HubStats
from realtime.protocol import CloseCode, EncodedChange, encoded
from realtime.router import Router
from realtime.threads import read_in_thread

logger = logging.getLogger(__name__)

INBOX_SIZE = 256  # messages a socket may have waiting; beyond, they are lost and repaired
REPORT_EVERY = 5.0  # seconds between the hub's status reports (`manage.py realtime_status`)
PROCESS = f"{socket_module.gethostname()}:{os.getpid()}"


class HubSocket(Protocol):
    channel_name: str
    customer_id: int | None
    user_id: int | None
    session_key: str | None
    requested: int | None

    @property
    def cursor(self) -> int: ...

    def presence_entry(self) -> dict[str, Any] | None: ...

    def post(self, message: dict[str, Any]) -> bool: ...


class ShuttingDown(Exception):
    """The process is shutting down: a socket admitted meanwhile is turned away with 1012."""


@dataclass
class Hub:
    tail_interval: float
    sweep_interval: float
    repair_grace: float  # how long the layer gets to deliver an event before the tailer does
    draining: bool = False  # shutting down: new sockets are turned away with 1012
    sockets: dict[str, HubSocket] = field(default_factory=dict)
    stats: HubStats = field(default_factory=HubStats)
    latest: dict[int, int] = field(default_factory=dict)  # customer -> newest seq the tailer saw
    router: Router = field(init=False)
    heap: Heap = field(default_factory=Heap)
    admissions: Batcher[Request, Admission | CloseCode] = field(init=False)
    by_customer: dict[int, dict[str, HubSocket]] = field(default_factory=dict)
    _lagging_since: dict[tuple[int, int], float] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None

    def __post_init__(self) -> None:
        self.router = Router(self.recipients, self._count_error)
        self.admissions = admissions()

    def _count_error(self) -> None:
        self.stats.errors += 1

    # --- sockets ------------------------------------------------------------------------------

    async def register(self, socket: HubSocket) -> None:
        """Take a socket whose handshake succeeded; raises if the channel layer is unreachable,
        and ShuttingDown once the process is shutting down (its hub is stopping)."""
        if self.draining:
            raise ShuttingDown
        self.start()
        await self.router.start()
        customer_id = socket.customer_id or 0
        await self.router.join(customer_id)
        self.sockets[socket.channel_name] = socket
        self.by_customer.setdefault(customer_id, {})[socket.channel_name] = socket

    def unregister(self, socket: HubSocket) -> None:
        if self.sockets.pop(socket.channel_name, None) is None:
            return
        customer_id = socket.customer_id or 0
        local = self.by_customer.get(customer_id, {})
        local.pop(socket.channel_name, None)
        if not local:
            self.by_customer.pop(customer_id, None)
        self.router.leave(customer_id)

    def presence_changed(self, customer_id: int) -> None:
        self.router.presence_changed(customer_id)

    def recipients(self, message: dict[str, Any]) -> list[HubSocket]:
        """The local sockets a layer message is for (`realtime.publish` names them)."""
        if "customer" in message:
            return list(self.by_customer.get(message["customer"], {}).values())
        sockets = list(self.sockets.values())
        if "user" in message:
            return [s for s in sockets if s.user_id == message["user"]]
        if "session" in message:
            return [s for s in sockets if s.session_key == message["session"]]
        if message.get("watchers"):
            return [s for s in sockets if s.requested is not None]
        return []

    def sockets_of_user(self, user_id: int) -> int:
        return sum(1 for socket in self.sockets.values() if socket.user_id == user_id)

    def known_seq(self, customer_id: int) -> int:
        """The newest seq of this customer the tailer has seen (0: none yet)."""
        return self.latest.get(customer_id, 0)

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not all(task.done() for task in self._tasks)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.running and self._loop is loop:
            return
        self._loop = loop
        self.stats = HubStats(started_at=time.time())
        self._tasks = [
            loop.create_task(self._every(self.tail_interval, self.tail_once), name="realtime-hub-tailer"),
            loop.create_task(self._every(self.sweep_interval, self.sweep_once), name="realtime-hub-sweep"),
            loop.create_task(self._every(REPORT_EVERY, self.report), name="realtime-hub-report"),
            loop.create_task(self._every(FREEZE_EVERY, self.heap.tend), name="realtime-hub-heap"),
        ]

    async def stop(self) -> None:
        await self.router.stop()
        self.heap.release()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
            except RuntimeError:  # a task of an event loop that has closed meanwhile (tests)
                logger.debug("realtime hub: task of another loop", exc_info=True)

    async def _every(self, interval: float, work: Any) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database or Redis is away: say so once per round and try again next time.
                self.stats.errors += 1
                logger.warning("realtime hub: %s failed; retrying", work.__name__, exc_info=True)

    # --- the tailer ---------------------------------------------------------------------------

    async def tail_once(self) -> None:
        floors: dict[int, int] = {}
        for socket in list(self.sockets.values()):
            if socket.customer_id is not None:
                cursor = socket.cursor
                floors[socket.customer_id] = min(cursor, floors.get(socket.customer_id, cursor))
        self.stats.last_tail_at = time.time()
        if not floors:
            self._lagging_since.clear()
            return
        # One query while every socket is up to date; the events only for those that lag.
        lagging = await read_in_thread(tail.lagging)(floors)
        self.latest.update(lagging)
        now = time.monotonic()
        due = {}
        for customer_id, latest in lagging.items():
            first = self._lagging_since.setdefault((customer_id, latest), now)
            if now - first >= self.repair_grace:  # the layer had its chance
                due[customer_id] = floors[customer_id]
        for key in [key for key in self._lagging_since if lagging.get(key[0]) != key[1]]:
            del self._lagging_since[key]
        if not due:
            return
        events = await read_in_thread(tail.events_after)(due)
        self.hand_over({customer: lagging[customer] for customer in due}, events)

    def hand_over(self, latest: dict[int, int], events: list[tail.TailedEvent]) -> None:
        """Give each local socket of these customers the events its cursor lacks, and the seq it
        must reach: a socket that cannot get there (retention removed what it lacks) resyncs."""
        frames: dict[int, list[EncodedChange]] = {}
        for event in events:  # encoded once, whatever the number of sockets that lack it
            frames.setdefault(event.customer_id, []).append(encoded(event.frame))
            self.stats.tail_lag = max(0.0, time.time() - event.recorded_at)
        for customer_id, upto in latest.items():
            for socket in list(self.by_customer.get(customer_id, {}).values()):
                if socket.cursor < upto:
                    owed = [frame for frame in frames.get(customer_id, []) if frame["seq"] > socket.cursor]
                    socket.post({"type": "realtime.repair", "frames": owed, "upto": upto})

    # --- the sweep ----------------------------------------------------------------------------

    async def sweep_once(self) -> None:
        sockets = [s for s in self.sockets.values() if s.customer_id is not None and s.user_id is not None]
        self.stats.last_sweep_at = time.time()
        if not sockets:
            return
        grants = [
            access.Grant(s.user_id or 0, s.session_key, s.requested, s.customer_id or 0) for s in sockets
        ]
        verdicts = await read_in_thread(access.check_all)(grants)
        self.stats.swept += len(sockets)
        own: list[int | None] = []  # customers with a tab of their own open here (not staff watching)
        for socket, code in zip(sockets, verdicts, strict=True):
            if code is not None:
                self.stats.closed_by_sweep += 1
                socket.post({"type": "realtime.close", "code": int(code)})
            elif socket.requested is None:
                own.append(socket.customer_id)
        await attendance.stamp(own)  # emails go to customers with no tab open (never raises)
        entries = [
            (s.customer_id or 0, s.channel_name, entry)
            for s in sockets
            if (entry := s.presence_entry()) is not None
        ]
        if entries:
            await presence.store().refresh_many(entries)
            for customer_id, _channel, _entry in entries:  # rooms lose the entries that expired
                self.router.presence_changed(customer_id)

    async def report(self) -> None:
        await read_in_thread(hub_status.save)(PROCESS, self.stats.started_at, self.status())

    def status(self) -> dict[str, Any]:
        """What `realtime_status` shows for this process."""
        now = time.time()
        return {
            "sockets": len(self.sockets),
            "customers": len({s.customer_id for s in self.sockets.values()}),
            "running": self.running,
            "tail_interval": self.tail_interval,
            "last_tail_ago": now - self.stats.last_tail_at if self.stats.last_tail_at else None,
            "tail_lag": self.stats.tail_lag,
            "last_sweep_ago": now - self.stats.last_sweep_at if self.stats.last_sweep_at else None,
            "repaired": self.stats.repaired,
            "closed_by_sweep": self.stats.closed_by_sweep,
            "errors": self.stats.errors,
            "uptime": now - self.stats.started_at if self.stats.started_at else 0.0,
        }


_hub: Hub | None = None


def hub() -> Hub:
    """This process's hub (made on first use from the settings)."""
    global _hub
    if _hub is None:
        in_memory = not settings.REDIS_URL
        _hub = Hub(
            tail_interval=settings.REALTIME_TAIL_INTERVAL,
            sweep_interval=settings.REALTIME_CHECK_INTERVAL,
            # The in-memory layer never carries another process's changes: repair at once.
            repair_grace=0.0 if in_memory else settings.REALTIME_TAIL_INTERVAL,
        )
    return _hub


async def reset() -> None:
    """Stop and forget the hub (tests switch settings and event loops)."""
    global _hub
    if _hub is not None:
        await _hub.stop()
    _hub = None

"""The sockets: held by several client processes, so the client is not what gets measured.

Each process (`serve`) holds its share of the sockets on one asyncio loop and obeys the
harness's commands over a pipe: `open` (at a given rate), `storm` (drop every socket at once
and reopen it at once, resuming where it was), `stop` (wait for the last frames, report).
`ClientPool` is the harness's end.
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import random
import time
from typing import Any

from bench.processes import raise_open_files
from bench.protocols import PROTOCOLS, Protocol, Target


class Holder:
    """One socket, across reconnects: what it received, in order."""

    def __init__(self, target: Target, protocol: Protocol) -> None:
        self.target = target
        self.protocol = protocol
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.first_seq: int | None = None  # where this socket's stream starts (hello's seq)
        self.last_seq: int | None = None
        self.seqs: list[int] = []
        self.receipts: list[tuple[str, float]] = []  # (change key, received at)
        self.kinds: collections.Counter[str] = collections.Counter()
        self.error: str | None = None
        self.opened_at: float | None = None  # first subscribed (in the open phase)
        self.subscribed_at: float | None = None
        self.last_frame_at = 0.0
        self.retries = 0  # storm reconnects refused and tried again

    def on_frame(self, raw: str, received: float) -> None:
        key, seq, kind = self.protocol.parse(raw)
        self.last_frame_at = received
        if kind != "change":
            self.kinds[kind] += 1
            return
        if key is not None:
            self.receipts.append((key, received))
        if seq is not None:
            self.seqs.append(seq)
            self.last_seq = seq if self.last_seq is None else max(self.last_seq, seq)

    async def open(self, *, since: int | None, timeout: float) -> bool:
        """Connect and subscribe within `timeout`; True once subscribed (then reading)."""
        from websockets.asyncio.client import connect

        ws = None
        try:
            async with asyncio.timeout(timeout):
                ws = await connect(
                    self.target.url,
                    additional_headers=self.target.headers,
                    open_timeout=None,
                    ping_interval=None,
                    compression=None,
                    max_queue=None,
                    close_timeout=1,
                )
                start = await self.protocol.subscribe(ws, since, self.on_frame)
        except (TimeoutError, OSError, Exception) as error:  # any failure is a failed socket
            self.error = f"{type(error).__name__}: {error}"[:200]
            if ws is not None:
                ws.transport.abort()
            return False
        self.ws = ws
        self.subscribed_at = time.time()
        if self.opened_at is None:
            self.opened_at = self.subscribed_at
        if self.first_seq is None:
            self.first_seq = start
        if self.last_seq is None:
            self.last_seq = start
        self.reader = asyncio.create_task(self.read(ws))
        return True

    async def read(self, ws: Any) -> None:
        try:
            async for raw in ws:
                self.on_frame(raw, time.time())
        except Exception as error:  # a dropped connection ends the reader either way
            if self.ws is ws:  # not dropped by the harness: the server or the network closed it
                self.kinds[f"closed:{type(error).__name__}"] += 1
                self.ws = None
            return
        if self.ws is ws:
            self.kinds["closed:by server"] += 1
            self.ws = None

    def drop(self) -> None:
        if self.ws is not None:
            self.ws.transport.abort()
            self.ws = None

    async def resume(self, timeout: float) -> bool:
        """After a drop: reopen from the last seq applied (the floor and peer just re-subscribe).

        A refused attempt (daphne gives the application 5 s to accept) is retried with the
        portal client's backoff (static/realtime/realtime.js: 1 s doubling up to 30 s, half of
        each step random) until `timeout` has passed.
        """
        if self.reader is not None:
            await self.reader
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if await self.open(since=self.last_seq, timeout=left):
                return True
            step = min(30.0, 2.0**self.retries)
            self.retries += 1
            await asyncio.sleep(
                min(step / 2 + random.random() * step / 2, max(0.0, deadline - time.monotonic()))
            )
        return False

    def report(self) -> dict[str, Any]:
        return {
            "customer": self.target.customer_id,
            "opened_at": self.opened_at,
            "subscribed": self.ws is not None,
            "first_seq": self.first_seq,
            "seqs": self.seqs,
            "receipts": self.receipts,
            "kinds": dict(self.kinds),
            "error": self.error,
        }


async def _open_all(holders: list[Holder], rate: float, offset: float, timeout: float) -> dict:
    start = time.monotonic() + offset
    tasks = []
    for i, holder in enumerate(holders):
        pause = start + i / rate - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        tasks.append(asyncio.create_task(holder.open(since=None, timeout=timeout)))
    results = await asyncio.gather(*tasks)
    return {"connected": sum(results), "errors": _errors(holders)}


async def _storm(holders: list[Holder], timeout: float) -> dict:
    live = [holder for holder in holders if holder.ws is not None]
    dropped_at = time.time()
    for holder in live:
        holder.drop()
    results = await asyncio.gather(*(holder.resume(timeout) for holder in live))
    back = [holder.subscribed_at for holder, ok in zip(live, results, strict=True) if ok]
    return {
        "dropped_at": dropped_at,
        "dropped": len(live),
        "back": len(back),
        "retries": sum(holder.retries for holder in live),
        "last_back_at": max(back, default=None),
    }


async def _stop(holders: list[Holder], finals: dict[int, int] | None, drain: float, quiet: float) -> list:
    """Wait until every socket has what was written (or nothing arrived for `quiet` s), then close."""
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline:
        if finals is not None:
            behind = [
                h
                for h in holders
                if h.ws is not None and (h.last_seq or 0) < finals.get(h.target.customer_id, 0)
            ]
            if not behind:
                break
        elif time.time() - max((h.last_frame_at for h in holders), default=0) > quiet:
            break
        await asyncio.sleep(0.1)
    reports = [holder.report() for holder in holders]
    for holder in holders:
        holder.drop()
    return reports


def _errors(holders: list[Holder]) -> dict[str, int]:
    counts = collections.Counter((h.error or "").split(":")[0] for h in holders if h.ws is None and h.error)
    return dict(counts)


def serve(conn: Any, protocol: str, targets: list[Target], offset: float) -> None:
    """A client process: hold `targets`' sockets and obey the harness's commands."""
    raise_open_files()

    async def main() -> None:
        holders = [Holder(target, PROTOCOLS[protocol]()) for target in targets]
        loop = asyncio.get_running_loop()
        while True:
            command, args = await loop.run_in_executor(None, conn.recv)
            if command == "open":
                conn.send(await _open_all(holders, args["rate"], offset, args["timeout"]))
            elif command == "storm":
                conn.send(await _storm(holders, args["timeout"]))
            elif command == "stop":
                conn.send(await _stop(holders, args["finals"], args["drain"], args["quiet"]))
                return

    asyncio.run(main())


class ClientPool:
    """The harness's end: `procs` client processes sharing the sockets round-robin."""

    def __init__(self, protocol: str, targets: list[Target], procs: int, rate: float) -> None:
        procs = max(1, min(procs, len(targets)))
        self.rate = rate
        self.count = len(targets)
        ctx = multiprocessing.get_context("spawn")
        self.conns = []
        self.processes = []
        for w in range(procs):
            parent, child = ctx.Pipe()
            share = targets[w::procs]
            process = ctx.Process(target=serve, args=(child, protocol, share, w / rate), daemon=True)
            process.start()
            self.conns.append(parent)
            self.processes.append(process)

    def command(self, command: str, wait: float, **args: Any) -> list[Any]:
        for conn in self.conns:
            conn.send((command, args))
        deadline = time.monotonic() + wait
        replies = []
        for conn in self.conns:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"client processes did not answer {command!r} within {wait:.0f}s")
            replies.append(conn.recv())
        return replies

    def open(self, timeout: float) -> list[dict]:
        per_process = self.rate / len(self.conns)
        budget = self.count / self.rate + timeout + 30
        return self.command("open", budget, rate=per_process, timeout=timeout)

    def close(self) -> None:
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():  # a run that failed halfway: the process still waits for a command
                process.terminate()
                process.join()

"""What the fault tests break and mend: a private Redis, a cuttable path to PostgreSQL, daphne
processes with their own settings, a writer process, and clients that resume like the portal's."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import websockets

from tests.conftest import ROOT, DaphneServer, child_env, free_port, missing_service, wait_for
from tests.realtime import helpers


class PrivateRedis:
    """A redis-server of the test's own on a free port, which the test may stop and start."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("redis-server") is None:
            missing_service("needs the redis-server program for a private Redis")
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: _port_open(self.port), timeout=10, message="the private Redis")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class CuttableProxy:
    """A TCP proxy to PostgreSQL that the test can cut (every connection dropped, new ones
    refused) and mend, without touching the shared server."""

    def __init__(self, target_port: int = 5432) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        threading.Thread(target=self.loop.run_forever, daemon=True, name="pg-proxy").start()

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, upstream_writer}
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))
        self.writers -= {writer, upstream_writer}

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.close()  # no new connections
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        if server is not None:
            # Since Python 3.12 this waits for every connection to end: hence the aborts first.
            await asyncio.wait_for(server.wait_closed(), 5)

    def mend(self) -> None:
        self._run(self._listen())

    def cut(self) -> None:
        self._run(self._cut())

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)


def database_url_via(port: int) -> str:
    url = child_env()["DATABASE_URL"]
    return url.replace(":5432/", f":{port}/")


def start_daphne(folder: Path, **env: str) -> DaphneServer:
    server = DaphneServer(child_env(**env), folder / f"daphne-{free_port()}.log")
    server.start()
    return server


def start_writer(customers: list[int], count: int, rate: float, **env: str) -> subprocess.Popen:
    """A process saving `count` messages through crm.services, round robin over the customers."""
    script = (
        "import time\n"
        "from crm import services\n"
        "from crm.models import Customer\n"
        f"customers = [Customer.objects.get(pk=pk) for pk in {customers!r}]\n"
        f"for n in range({count}):\n"
        f"    services.post_message(customer=customers[n % len(customers)], body=f'fault {{n}}', author=None)\n"
        f"    time.sleep({1 / rate})\n"
    )
    # Its warnings (publishing while Redis is away, on purpose) go to a file, not the test's output.
    log = tempfile.NamedTemporaryFile(prefix="fault-writer-", suffix=".log", delete=False)  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", script],
        cwd=ROOT,
        env=child_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@dataclass
class ResumingClient:
    """A client as docs/protocol.md asks: subscribe with `since` = the last seq applied, and on
    any close but 4401/4403 come back and resume. It checks every change arrives once, in order."""

    url: str
    origin: str
    cookie: str
    topics: list[str] = field(default_factory=lambda: ["messages"])
    # Other servers to try when this one does not answer (a load balancer's other backends).
    fallbacks: list[tuple[str, str]] = field(default_factory=list)
    last_seq: int | None = None
    changes: list[dict] = field(default_factory=list)
    closes: list[int | None] = field(default_factory=list)
    task: asyncio.Task | None = None
    stopped: bool = False

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while not self.stopped:
            try:
                async with websockets.connect(
                    self.url,
                    origin=self.origin,
                    additional_headers={"Cookie": f"sessionid={self.cookie}"},
                    open_timeout=5,
                ) as connection:
                    await self._session(connection)
            except (OSError, websockets.InvalidHandshake, websockets.ConnectionClosed, TimeoutError) as error:
                code = getattr(getattr(error, "rcvd", None), "code", None)
                self.closes.append(code)
                assert code not in (4401, 4403), f"refused for good: {code}"
                if self.fallbacks and isinstance(error, OSError):  # refused: try the next server
                    self.fallbacks.append((self.url, self.origin))
                    self.url, self.origin = self.fallbacks.pop(0)
            await asyncio.sleep(0.2)

    async def _session(self, connection) -> None:
        hello = helpers.record_text(await asyncio.wait_for(connection.recv(), 10))
        assert hello["type"] == "hello"
        since = hello["seq"] if self.last_seq is None else self.last_seq
        self.last_seq = since
        await connection.send(json.dumps({"type": "subscribe", "topics": self.topics, "since": since}))
        async for raw in connection:
            frame = helpers.record_text(raw)
            assert frame["type"] != "resync", f"a resync: {frame}"
            if frame["type"] == "change":
                assert frame["seq"] > self.last_seq, (
                    f"out of order or repeated: {frame['seq']} after {self.last_seq}"
                )
                self.last_seq = frame["seq"]
                self.changes.append(frame)

    async def stop(self) -> None:
        """Stop; a check that failed inside the client fails the test here."""
        self.stopped = True
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    def seqs(self) -> list[int]:
        return [frame["seq"] for frame in self.changes]


async def until(predicate, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {message}"
        await asyncio.sleep(0.05)

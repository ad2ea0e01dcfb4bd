"""The processes a benchmark run starts: environment, daphne servers, memory and file limits."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_env() -> None:
    """Defaults for this process and every process it starts (daphne, writer, clients)."""
    for name, value in {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "bench-only-secret-key",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "STATICFILES_MANIFEST": "0",
        "LOG_LEVEL": "WARNING",
    }.items():
        os.environ.setdefault(name, value)
    # Group names are global to a Redis server: a run never meets an app (or a test run) that
    # shares the server and the prefix.
    prefix = os.environ.get("REALTIME_LAYER_PREFIX", "asgi")
    if not prefix.endswith(".bench"):
        os.environ["REALTIME_LAYER_PREFIX"] = f"{prefix}.bench"


def setup_django(settings_module: str | None = None) -> None:
    bench_env()
    if settings_module:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def raise_open_files() -> int:
    """Lift the soft limit on open files to the hard one (children inherit it); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


LISTEN_BACKLOG = 2048  # every subject alike: this project's default (REALTIME_LISTEN_BACKLOG)


def listen_on(port: int) -> str:
    """daphne's endpoint: Twisted's own backlog of 50 would make the storm measure TCP's SYN
    retransmits rather than the servers."""
    return f"tcp:port={port}:interface=127.0.0.1:backlog={LISTEN_BACKLOG}"


class Daphnes:
    """`count` daphne processes serving one ASGI application on free loopback ports."""

    def __init__(self, application: str, count: int, env: dict[str, str], log_dir: Path) -> None:
        self.application = application
        self.ports = [free_port() for _ in range(count)]
        self.env = env
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, timeout: float = 60) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for port in self.ports:
            log = (self.log_dir / f"daphne-{port}.log").open("ab")
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "daphne", "-e", listen_on(port), self.application],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + timeout
        for port, process in zip(self.ports, self.processes, strict=True):
            while not port_open(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    log = self.log_dir / f"daphne-{port}.log"
                    raise RuntimeError(f"daphne for {self.application} did not start; see {log}")
                time.sleep(0.1)

    def rss_kb(self) -> int:
        return sum(rss_kb(process.pid) for process in self.processes)

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

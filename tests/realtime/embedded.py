"""The embedded default (`make run`: SQLite, the in-memory channel layer, one daphne process) as
a test fixture: a migrated SQLite file, people made by a setup script, and a daphne serving it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.conftest import ROOT, DaphneServer

Embedded = tuple[DaphneServer, dict[str, str], str, int]  # server, env, session key, customer id


def embedded_env(database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REALTIME_TAIL_INTERVAL_SECONDS")}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        PYTHONFAULTHANDLER="1",  # a crash at exit prints where it happened
        ENV_FILE="",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@contextmanager
def embedded_daphne(folder: Path, setup: str) -> Iterator[Embedded]:
    """`setup` runs in a shell on the new database and prints a session key and a customer id."""
    env = embedded_env(str(folder / "db.sqlite3"))
    manage(env, "migrate", "--no-input", "-v0")
    session_key, customer = manage(env, "shell", "-v", "0", "-c", setup).split()[-2:]
    server = DaphneServer(env, folder / "daphne.log")
    server.start()
    try:
        yield server, env, session_key, int(customer)
    finally:
        server.stop()


async def sigterm_and_restart(server: DaphneServer, sockets: list[Any]) -> str:
    """SIGTERM the server with these sockets open: each must close with 1012 and daphne exit 0
    without a fatal error. Then start it again; returns its log up to the exit."""
    process = server.process
    assert process is not None
    process.send_signal(signal.SIGTERM)
    for socket in sockets:
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(socket.recv(), 10)
        assert socket.close_code == 1012
    returncode = await asyncio.to_thread(process.wait, 10)
    log = server.log_path.read_text()
    assert returncode == 0, log[-3000:]
    assert "Fatal Python error" not in log, log[-3000:]
    server.process = None
    server.start()
    return log

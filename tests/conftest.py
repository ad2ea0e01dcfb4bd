"""Shared fixtures: service checks, data factories, a daphne process, WebSocket helpers.

A test that needs PostgreSQL, Redis or Chromium skips with the reason on a machine without it,
and fails instead when REQUIRE_SERVICES=1 (set by .ci/run).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") in {"1", "true", "yes"}
REDIS_URL = os.environ.get("REDIS_URL", "")


def missing_service(reason: str) -> None:
    """Skip, or fail under CI: a missing service there is a broken machine, not a pass."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def redis_available() -> bool:
    if not REDIS_URL:
        return False
    url = urlparse(REDIS_URL)
    return _port_open(url.hostname or "127.0.0.1", url.port or 6379)


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def require_postgres() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        missing_service("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture
def require_redis() -> None:
    if not redis_available():
        missing_service("needs Redis: set REDIS_URL=redis://... to a running server")


def redis_layer_settings(backend: str = "channels_redis.pubsub.RedisPubSubChannelLayer") -> dict:
    config: dict = {"hosts": [{"address": REDIS_URL}], "prefix": settings.REALTIME_LAYER_PREFIX}
    if backend.endswith("core.RedisChannelLayer"):
        config["hosts"][0]["max_connections"] = 2000
    return {"default": {"BACKEND": backend, "CONFIG": config}}


@pytest.fixture
def redis_layer(require_redis, settings):
    """Use the real Redis pub/sub channel layer in this process."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = redis_layer_settings()
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def realtime_stack(require_postgres, redis_layer):
    """PostgreSQL and the Redis layer: what the realtime tests prove things on."""


# --- data ---------------------------------------------------------------------------------------


@pytest.fixture
def make_user(django_user_model):
    def make(username: str, *, password: str = "pw-for-tests", staff: bool = False, perms=(), **extra):
        from django.contrib.auth.models import Permission

        user = django_user_model.objects.create_user(
            username=username, password=password, is_staff=staff, **extra
        )
        for codename in perms:
            app_label, code = codename.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=code)
            )
        return user

    return make


@pytest.fixture
def make_customer(make_user):
    from crm.models import Customer

    def make(name: str = "Alice Example", *, login: str | None = None, **fields):
        user = make_user(login) if login else None
        fields.setdefault("email", f"{name.split()[0].lower()}@example.com")
        return Customer.objects.create(name=name, portal_user=user, **fields)

    return make


@pytest.fixture
def tomorrow_window():
    def window(days: int = 1, hours: int = 2):
        start = (timezone.now() + dt.timedelta(days=days)).replace(microsecond=0)
        return start, start + dt.timedelta(hours=hours)

    return window


# --- a daphne process ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_tests() -> str:
    """The test database (pytest-django renamed it), as a URL for child processes."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("child processes share the test database only on PostgreSQL")
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url_for_tests(),
            "REDIS_URL": REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


class DaphneServer:
    """A real daphne process serving config.asgi on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path, args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.env = env
        self.log_path = log_path
        self.args = args  # more daphne options, e.g. --proxy-headers
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/realtime/"

    def start(self, timeout: float = 20) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                *self.args,
                "config.asgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"daphne exited early; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}"
                )
            if _port_open("127.0.0.1", self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"daphne did not listen within {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def daphne_factory(django_db_setup, django_db_blocker, tmp_path_factory):
    """Start daphne processes (options, then environment variables) against the test database;
    all are stopped at session end."""
    servers: list[DaphneServer] = []

    def start(*args: str, **env: str) -> DaphneServer:
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            missing_service("needs PostgreSQL so daphne can share the test database")
        if not redis_available():
            missing_service("needs Redis so daphne and the tests share a channel layer")
        server = DaphneServer(child_env(**env), tmp_path_factory.mktemp("daphne") / "daphne.log", args)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def daphne_server(daphne_factory) -> DaphneServer:
    """One shared daphne process for the session (tests that stop it use daphne_factory)."""
    return daphne_factory()


def wait_for(predicate, *, timeout: float = 5.0, interval: float = 0.02, message: str = "condition"):
    """Poll until predicate() is truthy; returns its value. For waiting on another process."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)

"""The process's part: start the hub with the first request, and shut down in order on SIGTERM.

On SIGTERM (or SIGINT) under daphne: refuse new sockets, close every open one with 1012
("service restart", clients come back after a short jittered delay), wait for them to finish,
stop the hub and the channel layer's connections, and only then hand the signal to daphne's
own handler, which stops the reactor with nothing left to kill.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

from realtime import daphne_patches, hub_status, presence, publish
from realtime.hub import PROCESS, hub
from realtime.protocol import CloseCode
from realtime.threads import read_in_thread

logger = logging.getLogger(__name__)

DRAIN_SECONDS = 5.0  # how long closing sockets may take before daphne's own shutdown goes on

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
Handler = Callable[[int, FrameType | None], Any] | int | None

_installed = False
_shutting_down = False
# Other endpoints' sockets (the staff stream's), closed with 1012 alongside the hub's.
_drains: list[Callable[[], Awaitable[None]]] = []


def also_drain(step: Callable[[], Awaitable[None]]) -> None:
    """Run `step` at shutdown, after the hub's sockets were told to close and before the layer
    closes: it closes its own sockets with 1012 and returns when they are gone."""
    _drains.append(step)


def with_lifecycle(app: ASGIApp) -> ASGIApp:
    """Wrap the ASGI application: the first call (from daphne's event loop) installs the handlers."""

    async def application(scope: Any, receive: Any, send: Any) -> None:
        if not _installed:
            install()
        await app(scope, receive, send)

    return application


def install() -> None:
    global _installed
    _installed = True
    if not _under_daphne():
        return  # tests and other servers: their own signal handling stays as it is
    daphne_patches.install()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        signal.signal(signum, _handler(loop, previous))


def _under_daphne() -> bool:
    try:
        from twisted.internet import reactor
    except ImportError:
        return False
    return bool(getattr(reactor, "running", False))


def _handler(loop: asyncio.AbstractEventLoop, previous: Handler) -> Callable[[int, FrameType | None], None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        global _shutting_down
        if _shutting_down:  # a second signal: stop now
            _call(previous, signum, frame)
            return
        _shutting_down = True

        def then() -> None:
            _call(previous, signum, frame)

        loop.call_soon_threadsafe(lambda: loop.create_task(shutdown(then)))

    return handle


def _call(previous: Handler, signum: int, frame: FrameType | None) -> None:
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_DFL:
        raise SystemExit(0)


async def shutdown(then: Callable[[], None]) -> None:
    """Close every socket with 1012, stop the hub and the layer, then call `then`."""
    started = time.monotonic()
    the_hub = hub()
    the_hub.draining = True
    sockets = list(the_hub.sockets.values())
    logger.info("realtime: shutting down, closing %d socket(s) with 1012", len(sockets))
    for socket in sockets:
        if not socket.post({"type": "realtime.close", "code": int(CloseCode.SERVICE_RESTART)}):
            logger.warning("realtime: %s had a full inbox at shutdown", socket.channel_name)
    for drain in _drains:
        try:
            await asyncio.wait_for(drain(), DRAIN_SECONDS)
        except Exception:
            logger.warning("realtime: shutdown drain %s failed", drain, exc_info=True)
    while the_hub.sockets and time.monotonic() - started < DRAIN_SECONDS:
        await asyncio.sleep(0.05)
    for step in (the_hub.stop, _forget_report, _close_layer, presence.close):
        try:
            await step()
        except Exception:
            logger.warning("realtime: shutdown step %s failed", step.__name__, exc_info=True)
    await asyncio.to_thread(publish.flush, 2.0)
    logger.info(
        "realtime: shut down in %.2f s (%d socket(s) left)", time.monotonic() - started, len(the_hub.sockets)
    )
    then()


async def _forget_report() -> None:
    await read_in_thread(hub_status.forget)(PROCESS)


async def _close_layer() -> None:
    """Close the layer's Redis connections now, on the running loop: left to their finalizers
    at interpreter exit, they are closed with no loop to run on."""
    layer = get_channel_layer()
    if isinstance(layer, RedisChannelLayer):
        await layer.close_pools()  # (its flush() would delete every process's messages)
    elif isinstance(layer, RedisPubSubChannelLayer):
        await layer.flush()  # forgets local groups and closes its connections

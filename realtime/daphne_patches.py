"""Three things daphne does not do, added when we run under it.

- **A listen backlog for storms.** Twisted listens with a backlog of 50 connections. After a
  deploy a thousand clients reconnect within a second; the kernel dropped the connections that
  did not fit (`ListenOverflows` in `nstat`) and those clients waited out TCP's SYN retransmits
  (1 s, then 3 s) before daphne even saw them. TCP and UNIX endpoints without a backlog of their
  own listen with `REALTIME_LISTEN_BACKLOG` (the kernel caps it at `net.core.somaxconn`).
  Upstream: daphne could take a `--backlog` option, as uvicorn and gunicorn do (2048).

- **Registered close codes.** daphne passes a close code to autobahn's `sendClose`, which
  accepts only 1000 and 3000-4999, although RFC 6455 defines 1008 (policy violation) and 1011
  (server error) and IANA registers 1012 (service restart) and 1013 (try again later) for
  servers to send: autobahn raised "invalid close code 1012" and the socket was dropped (1006).
  These go out as close frames directly. Upstream: autobahn's `sendClose` should accept the
  codes RFC 6455 and the IANA registry give endpoints.
- **Slow readers.** ASGI has no backpressure: a client that stops reading makes daphne buffer
  every frame for it in memory, without end. A streaming producer on each socket's transport
  learns when the kernel's buffer is full; a socket that stays so for
  `REALTIME_SLOW_READER_SECONDS`, or has more than `REALTIME_SLOW_READER_BYTES` waiting, is
  dropped, and its consumer cleans up as for any other close. Upstream: daphne could apply this
  (or flow control) itself.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings

SENDABLE_CODES = (1008, 1011, 1012, 1013)

_installed = False
LISTENING_KINDS = ("tcp", "tcp6", "unix")


def with_backlog(endpoint: str, backlog: int) -> str:
    """A Twisted server endpoint description, with `backlog` unless it names one itself."""
    kind, _, options = endpoint.partition(":")
    if kind in LISTENING_KINDS and not any(part.startswith("backlog=") for part in options.split(":")):
        return f"{endpoint}:backlog={backlog}"
    return endpoint


def widen_listen_backlog() -> None:
    """Under daphne's command line, which imports the application before it listens: give its
    endpoints the backlog. Elsewhere (tests, other servers) nothing changes."""
    server_module = sys.modules.get("daphne.server")
    if server_module is None or getattr(server_module.Server, "backlog_widened", False):
        return
    server_class = server_module.Server
    original_run = server_class.run
    backlog = settings.REALTIME_LISTEN_BACKLOG

    def run(self: Any) -> None:
        self.endpoints = [with_backlog(endpoint, backlog) for endpoint in self.endpoints]
        original_run(self)

    server_class.run = run
    server_class.backlog_widened = True


class _Backpressure:
    """A streaming producer: Twisted pauses it when the socket's write buffer is full. It stands
    in front of the producer already registered (the HTTP channel the socket was upgraded from)
    and passes every call on to it."""

    def __init__(self, previous: Any) -> None:
        self.previous = previous
        self.paused_at: float | None = None

    def pauseProducing(self) -> None:
        if self.paused_at is None:
            self.paused_at = time.monotonic()
        if self.previous is not None:
            self.previous.pauseProducing()

    def resumeProducing(self) -> None:
        self.paused_at = None
        if self.previous is not None:
            self.previous.resumeProducing()

    def stopProducing(self) -> None:
        self.paused_at = None
        if self.previous is not None:
            self.previous.stopProducing()


def _pending_bytes(transport: Any) -> int:
    # Twisted's FileDescriptor buffers: what is queued and not yet written to the socket.
    buffered = len(getattr(transport, "dataBuffer", b"")) - getattr(transport, "offset", 0)
    return buffered + getattr(transport, "_tempDataLen", 0)


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    from daphne.ws_protocol import WebSocketProtocol

    original_close = WebSocketProtocol.serverClose
    original_open = WebSocketProtocol.onOpen
    original_send = WebSocketProtocol.serverSend
    slow_seconds = settings.REALTIME_SLOW_READER_SECONDS
    slow_bytes = settings.REALTIME_SLOW_READER_BYTES

    def server_close(self: Any, code: int | None = None) -> None:
        if code in SENDABLE_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            original_close(self, code)

    def on_open(self: Any) -> None:
        original_open(self)
        previous = getattr(self.transport, "producer", None)
        if previous is not None:
            self.transport.unregisterProducer()
        self.backpressure = _Backpressure(previous)
        self.transport.registerProducer(self.backpressure, True)

    def server_send(self: Any, content: Any, binary: bool = False) -> None:
        if self.state in (self.STATE_CLOSING, self.STATE_CLOSED):
            return  # the client went (or is going): nothing to deliver, not an error
        backpressure = getattr(self, "backpressure", None)
        if backpressure is not None and backpressure.paused_at is not None:
            stuck = time.monotonic() - backpressure.paused_at > slow_seconds
            if stuck or _pending_bytes(self.transport) > slow_bytes:
                self.dropConnection(abort=True)  # the consumer gets websocket.disconnect
                return
        original_send(self, content, binary)

    WebSocketProtocol.serverClose = server_close
    WebSocketProtocol.onOpen = on_open
    WebSocketProtocol.serverSend = server_send

"""Two things daphne does not do, added to its WebSocket protocol when we run under it.

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

import time
from typing import Any

from django.conf import settings

SENDABLE_CODES = (1008, 1011, 1012, 1013)

_installed = False


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

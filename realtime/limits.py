"""Inbound limits per socket: how many frames a client may send, and how often it may say it types.

Checked before a frame is even parsed, so a flood costs the server a few microseconds a frame
and never a queue that grows: over the rate, the client gets one error frame, and if it keeps
going, the socket is closed with 1008 (policy violation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.at = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Verdict(Enum):
    ACCEPT = "accept"
    WARN = "warn"  # the first frame over the limit: answer with an error frame
    DROP = "drop"  # over the limit, already warned: ignore it
    CLOSE = "close"  # kept going after the warning: close with 1008


@dataclass
class InboundLimit:
    """The frame rate of one socket. After a warning, `burst` more refused frames close it."""

    rate: float
    burst: int
    now: float
    bucket: TokenBucket = field(init=False)
    refused_since_warning: int | None = None  # None: no warning outstanding

    def __post_init__(self) -> None:
        self.bucket = TokenBucket(self.rate, self.burst, self.now)

    def check(self, now: float) -> Verdict:
        if self.bucket.take(now):
            self.refused_since_warning = None
            return Verdict.ACCEPT
        if self.refused_since_warning is None:
            self.refused_since_warning = 0
            return Verdict.WARN
        self.refused_since_warning += 1
        return Verdict.CLOSE if self.refused_since_warning >= self.burst else Verdict.DROP


class TypingLimit:
    """Typing frames relayed for one socket: a repeat of the same value at most once a second,
    and at most `per_second` frames a second whatever their values (true, false, true, ...)."""

    def __init__(self, per_second: float, now: float) -> None:
        self.bucket = TokenBucket(per_second, max(per_second, 1.0), now)
        self.last: tuple[bool, float] | None = None

    def allow(self, typing: bool, now: float) -> bool:
        if self.last is not None and self.last[0] == typing and now - self.last[1] < 1.0:
            return False  # a keystroke burst: the others already know
        if not self.bucket.take(now):
            return False
        self.last = (typing, now)
        return True

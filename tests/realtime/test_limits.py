"""Inbound limits (docs/protocol.md): a flooding socket is warned, then closed with 1008, at a
cost that does not grow with the flood; one user's sockets per process are capped (4429)."""

from __future__ import annotations

import asyncio
import time

import pytest

from realtime.limits import InboundLimit, TokenBucket, TypingLimit, Verdict
from tests.realtime import helpers

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_bucket_refills_at_its_rate_up_to_its_burst():
    bucket = TokenBucket(rate=10, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.1) and not bucket.take(0.1)  # 0.1 s at 10/s: one more
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # never above 3


def test_the_inbound_limit_warns_once_then_closes():
    limit = InboundLimit(rate=1, burst=2, now=0.0)
    verdicts = [limit.check(0.0) for _ in range(6)]
    assert verdicts == [
        Verdict.ACCEPT,
        Verdict.ACCEPT,
        Verdict.WARN,
        Verdict.DROP,
        Verdict.CLOSE,
        Verdict.CLOSE,
    ]
    polite = InboundLimit(rate=1, burst=2, now=0.0)
    assert [polite.check(t) for t in (0.0, 0.0, 0.0, 5.0, 5.0)] == [
        Verdict.ACCEPT,
        Verdict.ACCEPT,
        Verdict.WARN,
        Verdict.ACCEPT,  # it slowed down: the warning is forgiven
        Verdict.ACCEPT,
    ]


def test_typing_is_limited_by_frames_whatever_their_values():
    limit = TypingLimit(per_second=2, now=0.0)
    allowed = [limit.allow(n % 2 == 0, 0.001 * n) for n in range(100)]
    assert sum(allowed) == 2
    assert limit.allow(True, 0.0) is False  # a repeat within a second is dropped even with tokens


async def test_a_flood_is_warned_then_closed_and_others_are_not_slowed(people, sockets, settings):
    settings.REALTIME_FRAMES_PER_SECOND = 10
    settings.REALTIME_FRAME_BURST = 30
    alice, bob, _staff = people
    flooder = await sockets(alice.portal_user)
    other = await sockets(bob.portal_user)
    for _ in range(2000):
        await flooder.comm.send_to(text_data='{"type": "ping"}')
    frames = []
    with pytest.raises(helpers.Closed) as closed:
        while True:
            frames.append(await flooder.recv())
    assert closed.value.code == 1008
    errors = [frame for frame in frames if frame["type"] == "error"]
    assert [error["code"] for error in errors] == ["rate_limited"]  # warned once
    assert sum(frame["type"] == "pong" for frame in frames) <= 31  # the burst, not the flood
    started = time.monotonic()
    await other.send({"type": "ping"})
    assert (await other.expect("pong"))["type"] == "pong"
    print(f"another customer's ping after the flood: {(time.monotonic() - started) * 1000:.1f} ms")


async def test_a_polite_client_is_never_limited(people, sockets, settings):
    settings.REALTIME_FRAMES_PER_SECOND = 50
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    for _ in range(20):
        await socket.send({"type": "ping"})
        assert (await socket.expect("pong"))["type"] == "pong"
        await asyncio.sleep(0.025)


async def test_one_user_may_hold_only_so_many_sockets(people, sockets, settings):
    settings.REALTIME_MAX_SOCKETS_PER_USER = 3
    alice, bob, _staff = people
    kept = [await sockets(alice.portal_user) for _ in range(3)]
    refused = helpers.Socket(helpers.communicator(await helpers.session_cookie(alice.portal_user)))
    assert (await refused.comm.connect(timeout=5))[0]
    assert await refused.expect_close() == 4429
    await refused.close()
    assert (await sockets(bob.portal_user)).hello["type"] == "hello"  # others are not affected
    await kept[0].close()
    assert (await sockets(alice.portal_user)).hello["type"] == "hello"  # a tab closed: room again

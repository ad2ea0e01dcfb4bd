"""Delivery guarantees of docs/protocol.md ("The seq guarantees"): resume with `since`, gap
repair when the channel layer loses a message, `resync` past retention or ahead of the server."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone

from crm import services
from realtime import publish, retention, sequence, stream
from realtime.hub import hub
from realtime.models import CustomerSequence, OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def post(customer, body: str):
    return services.post_message(customer=customer, body=body, author=None)


@sync_to_async
def award(customer, points: int):
    return services.award_points(customer=customer, points=points)


@pytest.fixture
def dropped(monkeypatch):
    """`drop.next()` makes the next publish vanish, as a full channel or a Redis blip would."""
    original = publish.publish_frames

    class Drop:
        armed = 0
        lost: list[list[dict]] = []

        def next(self, count: int = 1) -> None:
            self.armed += count

    drop = Drop()

    def publish_frames(customer_id, frames):
        if drop.armed:
            drop.armed -= 1
            drop.lost.append(frames)
            return
        original(customer_id, frames)

    monkeypatch.setattr(publish, "publish_frames", publish_frames)
    return drop


async def test_resume_with_since_delivers_exactly_the_missed_changes(people, sockets, tomorrow_window):
    alice, bob, _staff = people
    first = await sockets(alice.portal_user)
    await first.subscribe(["jobs", "messages", "loyalty"])
    await post(alice, "before the disconnect")
    [seen] = await first.changes(1)
    await first.close()

    start, end = tomorrow_window()
    await sync_to_async(services.schedule_job)(customer=alice, service_type="Missed", start=start, end=end)
    await post(alice, "missed")
    await post(bob, "Bob's, not Alice's")
    await sync_to_async(services.update_preferences)(customer=alice, preferences={"notify_loyalty": False})
    await award(alice, 5)

    again = await sockets(alice.portal_user)
    assert again.hello["seq"] == seen["seq"] + 4
    await again.subscribe(["jobs", "messages", "loyalty"], since=seen["seq"])
    missed = await again.changes(3)
    assert [(f["seq"], f["event"]) for f in missed] == [
        (seen["seq"] + 1, "job.scheduled"),
        (seen["seq"] + 2, "message.received"),
        (seen["seq"] + 4, "loyalty.earned"),  # seq +3 is the profile, not subscribed here
    ]
    assert missed[1]["new"]["body"] == "missed"
    assert await again.until_pong() == []  # no more
    await post(alice, "live again")
    [live] = await again.changes(1)
    assert (live["seq"], live["new"]["body"]) == (seen["seq"] + 5, "live again")  # no repeats

    # Resuming only some topics replays only those.
    third = await sockets(alice.portal_user)
    await third.subscribe(["messages"], since=seen["seq"])
    assert [f["new"]["body"] for f in await third.until_pong()] == ["missed", "live again"]


async def test_subscribing_with_since_at_or_after_the_socket_start_repeats_nothing(people, sockets):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await post(alice, "after hello")
    last, _ = await sync_to_async(sequence.current)(alice.pk)
    # A snapshot taken after hello already holds this change: since = its seq skips it.
    subscribed = await socket.subscribe(["messages"], since=last)
    assert subscribed["topics"] == ["messages"]
    assert await socket.until_pong() == []
    await post(alice, "next")
    assert [f["seq"] for f in await socket.changes(1)] == [last + 1]


async def test_a_dropped_group_message_is_filled_in_before_the_next_one(people, sockets, dropped):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.subscribe(["messages", "loyalty"])
    dropped.next()
    await post(alice, "lost by the layer")
    await award(alice, 3)
    repaired, following = await socket.changes(2)
    assert len(dropped.lost) == 1 and dropped.lost[0][0]["seq"] == repaired["seq"]
    assert (repaired["seq"], repaired["new"]["body"]) == (socket.hello["seq"] + 1, "lost by the layer")
    assert (following["seq"], following["event"]) == (socket.hello["seq"] + 2, "loyalty.earned")
    assert await socket.until_pong() == []


async def test_a_lost_last_change_is_repaired_by_the_hub_without_ping(people, sockets, dropped):
    """Nothing comes after the lost frame to show the gap: the process's hub reads the outbox
    and hands the socket what its cursor lacks, once the layer had its chance."""
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.subscribe(["messages"])
    repaired_before = hub().stats.repaired
    dropped.next()
    await post(alice, "nothing comes after me")
    frame = await socket.expect("change", timeout=5)
    assert frame["new"]["body"] == "nothing comes after me"
    assert dropped.lost[0][0]["seq"] == frame["seq"]
    assert hub().stats.repaired == repaired_before + 1
    # The pong says the socket's position, from memory.
    await socket.send({"type": "ping"})
    assert await socket.recv() == {"type": "pong", "seq": frame["seq"]}


async def test_resync_when_since_is_older_than_retention(people, sockets):
    alice, _bob, _staff = people
    base, _ = await sync_to_async(sequence.current)(alice.pk)  # the customer's own creation
    for n in range(3):
        await post(alice, f"old {n}")
    removed = await sync_to_async(retention.prune)(retention_seconds=0)
    assert removed >= 3
    last, pruned = await sync_to_async(sequence.current)(alice.pk)
    assert pruned == last == base + 3
    assert not await sync_to_async(OutboxEvent.objects.filter(customer_id=alice.pk).exists)()

    socket = await sockets(alice.portal_user)
    await socket.send({"type": "subscribe", "topics": ["messages"], "since": base + 1})
    resync = await socket.expect("resync")
    assert resync["seq"] == last and "no longer retained" in resync["reason"]
    # The topics were not added: a new change is not sent until the client subscribes again.
    await post(alice, "after the prune")
    assert await socket.until_pong() == []
    # Subscribing from the seq the resync named (a snapshot re-fetched then) works again.
    await socket.subscribe(["messages"], since=last)
    await post(alice, "after resubscribing")
    frames = await socket.changes(2)
    assert [(f["seq"], f["new"]["body"]) for f in frames] == [
        (last + 1, "after the prune"),
        (last + 2, "after resubscribing"),
    ]


async def test_resync_when_since_is_ahead_of_the_server(people, sockets):
    alice, _bob, _staff = people
    await post(alice, "one")
    socket = await sockets(alice.portal_user)
    await socket.send({"type": "subscribe", "topics": ["messages"], "since": socket.hello["seq"] + 1})
    resync = await socket.expect("resync")
    assert resync["seq"] == socket.hello["seq"] and "ahead" in resync["reason"]
    assert await socket.until_pong() == []


async def test_a_live_socket_that_fell_behind_retention_is_told_to_resync(people, sockets, dropped):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.subscribe(["messages"])
    dropped.next()
    await post(alice, "lost, then pruned")
    await sync_to_async(retention.prune)(retention_seconds=0)
    frames = await socket.until_pong()
    lost = socket.hello["seq"] + 1
    assert [(f["type"], f["seq"]) for f in frames] == [("resync", lost)]
    stored = await sync_to_async(CustomerSequence.objects.get)(customer_id=alice.pk)
    assert stored.pruned_through == lost


async def test_pruning_removes_a_prefix_even_when_writer_clocks_disagree(people, sockets):
    """`created_at` comes from each writer's clock; a later seq stamped earlier (a host whose clock
    runs behind) must not leave a hole in what is kept: everything up to it goes."""
    alice, _bob, _staff = people
    base, _ = await sync_to_async(sequence.current)(alice.pk)
    for n in range(4):
        await post(alice, f"message {n}")

    @sync_to_async
    def skew_and_prune() -> list[int]:
        events = OutboxEvent.objects.filter(customer_id=alice.pk)
        events.update(created_at=timezone.now() + dt.timedelta(hours=1))
        events.filter(seq=base + 3).update(created_at=timezone.now() - dt.timedelta(days=30))
        retention.prune(retention_seconds=60)
        return list(events.order_by("seq").values_list("seq", flat=True))

    assert await skew_and_prune() == [base + 4]
    assert (await sync_to_async(sequence.current)(alice.pk))[1] == base + 3
    socket = await sockets(alice.portal_user)
    await socket.send({"type": "subscribe", "topics": ["messages"], "since": base + 1})
    assert (await socket.expect("resync"))["seq"] == base + 4


async def test_catching_up_over_a_hole_resyncs_instead_of_skipping_it(people, sockets, dropped):
    """A hole inside one outbox read (not only at its start) cannot be filled: resync, never a
    silent skip."""
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.subscribe(["messages"])
    start = socket.hello["seq"]
    dropped.next(3)
    for n in range(3):
        await post(alice, f"lost {n}")
    await sync_to_async(OutboxEvent.objects.filter(customer_id=alice.pk, seq=start + 2).delete)()
    frames = await socket.until_pong()
    assert [(f["type"], f["seq"]) for f in frames] == [("change", start + 1), ("resync", start + 3)]


async def test_a_whole_backlog_needs_no_second_look_at_the_position(people, sockets, monkeypatch):
    """The usual reconnect: every seq of the backlog was read, so retention took none of it and
    the subscribe costs one outbox read, not a read of the customer's position as well."""
    alice, _bob, _staff = people
    base, _ = await sync_to_async(sequence.current)(alice.pk)
    await post(alice, "missed")
    await award(alice, 2)
    socket = await sockets(alice.portal_user)

    async def no_position(_customer_id):
        raise AssertionError("the position was read again")

    monkeypatch.setattr(stream, "_position", no_position)
    await socket.subscribe(["messages"], since=base)  # the loyalty change is read, not sent
    assert [(f["seq"], f["event"]) for f in await socket.until_pong()] == [(base + 1, "message.received")]


async def test_retention_running_during_the_replay_resyncs(people, sockets):
    """The backlog's first seqs are gone by the time it is read: the hole shows in the read, and
    the customer's position confirms retention took them."""
    alice, _bob, _staff = people
    base, _ = await sync_to_async(sequence.current)(alice.pk)
    for n in range(3):
        await post(alice, f"old {n}")
    socket = await sockets(alice.portal_user)

    @sync_to_async
    def prune_the_first_two() -> None:
        OutboxEvent.objects.filter(customer_id=alice.pk, seq__lte=base + 2).delete()
        CustomerSequence.objects.filter(customer_id=alice.pk).update(pruned_through=base + 2)

    await prune_the_first_two()  # after the handshake read the position, before the subscribe
    await socket.send({"type": "subscribe", "topics": ["messages"], "since": base})
    frames = await socket.until_pong()
    assert [(f["type"], f["seq"]) for f in frames] == [
        ("change", base + 3),  # the replay sends what it read, then the resync says it is not whole
        ("resync", base + 3),
        ("subscribed", base + 3),
    ]


def test_backlogs_read_together_match_reading_each(people, monkeypatch, django_assert_num_queries):
    """A storm's resumed sockets read their backlogs in one statement (PostgreSQL): the same
    frames as a read per socket, each range capped at REPLAY_BATCH."""
    alice, bob, _staff = people
    for n in range(4):
        services.post_message(customer=alice, body=f"alice {n}", author=None)
    for n in range(2):
        services.post_message(customer=bob, body=f"bob {n}", author=None)
    alice_last, _ = sequence.current(alice.pk)
    bob_last, _ = sequence.current(bob.pk)
    monkeypatch.setattr(stream, "REPLAY_BATCH", 3)
    ranges = [
        (alice.pk, alice_last - 4, alice_last),  # capped at 3
        (bob.pk, bob_last - 2, bob_last),
        (alice.pk, alice_last - 1, alice_last),  # the same customer again (a second tab)
        (alice.pk, alice_last, alice_last),  # nothing owed
    ]
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else len(ranges)):
        together = stream.read_many(ranges)
    assert together == [stream.read_frames(*each) for each in ranges]
    assert [[frame["new"]["body"] for frame in frames] for frames in together] == [
        ["alice 0", "alice 1", "alice 2"],
        ["bob 0", "bob 1"],
        ["alice 3"],
        [],
    ]

"""Concurrent writers to one customer: seqs gap-free and in commit order, the snapshot invariant
still holds, and a snapshot taken while writes race it plus `since` loses nothing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from crm import services
from crm.models import Customer, Job, Message
from realtime import sequence
from realtime.models import OutboxEvent
from tests.realtime import snapshots

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 4
ROUNDS = 8


def in_threads(count: int, work) -> None:
    """Run work(i) in `count` threads started together, each on its own DB connection."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer hung (deadlock?)"
    assert not errors, errors


def contended_writes(customer_id: int, shared_job_id: int, start: dt.datetime):
    """What each writer does: move one shared job (so writes conflict), and everything else a
    customer's data can see, including two-event transactions and balance locks."""

    def work(index: int) -> None:
        customer = Customer.objects.get(pk=customer_id)
        shared = Job(pk=shared_job_id)
        for round_ in range(ROUNDS):
            step = round_ % 4
            if step == 0:
                moved = start + dt.timedelta(minutes=index * 100 + round_ + 1)
                services.reschedule_job(job=shared, start=moved, end=moved + dt.timedelta(hours=1))
            elif step == 1:
                services.post_message(customer=customer, body=f"writer {index} round {round_}", author=None)
                services.award_points(customer=customer, points=10)
            elif step == 2:
                job = services.schedule_job(
                    customer=customer,
                    service_type=f"W{index}",
                    start=start,
                    end=start + dt.timedelta(hours=1),
                )
                services.complete_job(job=job)  # a job update and a loyalty insert in one transaction
            else:
                services.redeem_points(customer=customer, points=1)
                services.update_preferences(
                    customer=customer, preferences={"notify_messages": bool(index % 2)}
                )
                services.update_contact_details(customer=customer, phone=f"555-{index}{round_:03d}")

    return work


async def test_concurrent_writers_keep_seq_order_and_the_invariant(people, sockets, tomorrow_window):
    alice, _bob, _staff = people
    start, end = tomorrow_window()
    shared = await sync_to_async(services.schedule_job)(
        customer=alice, service_type="Shared", start=start, end=end
    )
    await sync_to_async(services.award_points)(customer=alice, points=100)
    client = await sync_to_async(snapshots.logged_in_client)(alice.portal_user)
    before = await sync_to_async(snapshots.api_snapshots)(client)
    since = min(snap.seq for snap in before.values())
    socket = await sockets(alice.portal_user)
    await socket.subscribe(since=since)

    await sync_to_async(in_threads)(WRITERS, contended_writes(alice.pk, shared.pk, start))
    last, _ = await sync_to_async(sequence.current)(alice.pk)
    frames = await socket.changes_through(last, timeout=20)
    after = await sync_to_async(snapshots.api_snapshots)(client)

    # Seqs: strictly increasing and gap-free over everything the writers committed.
    snapshots.assert_gap_free(frames, since, last)
    assert last - since >= WRITERS * ROUNDS * 2
    # Commit order: every update's `old` is the row as the previous frame left it (checked by
    # apply_changes), so conflicting writes were numbered in the order they committed, and
    # the last frame for the shared job is what the database holds.
    snapshots.assert_stream_rebuilds(before, frames, after)
    moves = [f for f in frames if f["topic"] == "jobs" and f["id"] == shared.pk]
    assert len(moves) == WRITERS * ROUNDS // 4
    assert moves[-1]["new"] == after["jobs"].rows[shared.pk]
    assert await socket.until_pong() == []


async def test_a_snapshot_raced_by_writes_plus_since_loses_nothing(people, sockets, tomorrow_window):
    alice, _bob, _staff = people
    start, end = tomorrow_window()
    job = await sync_to_async(services.schedule_job)(
        customer=alice, service_type="Raced", start=start, end=end
    )
    client = await sync_to_async(snapshots.logged_in_client)(alice.portal_user)
    stop = threading.Event()
    writes = []

    def hammer() -> None:
        try:
            customer = Customer.objects.get(pk=alice.pk)
            n = 0
            while not stop.is_set() and n < 400:
                n += 1
                moved = start + dt.timedelta(minutes=n)
                services.reschedule_job(job=job, start=moved, end=moved + dt.timedelta(hours=1))
                services.post_message(customer=customer, body=f"race {n}", author=None)
                services.award_points(customer=customer, points=n)
                writes.append(n)
        finally:
            connection.close()

    writer = threading.Thread(target=hammer)
    writer.start()
    subscribed = []
    try:
        for _round in range(3):
            for topic in ("jobs", "messages", "loyalty"):
                snap = await sync_to_async(snapshots.api_snapshot)(client, topic)
                socket = await sockets(alice.portal_user)
                await socket.subscribe([topic], since=snap.seq)
                subscribed.append((topic, snap, socket))
    finally:
        stop.set()
        await sync_to_async(writer.join)(timeout=60)
    assert not writer.is_alive()
    # The snapshots really were taken while writes were landing.
    assert len({snap.seq for _topic, snap, _socket in subscribed}) > 3
    assert len(writes) > 3

    last, _ = await sync_to_async(sequence.current)(alice.pk)
    for topic, snap, socket in subscribed:
        frames = await socket.until_pong()
        assert all(frame["type"] == "change" and frame["topic"] == topic for frame in frames)
        expected = await sync_to_async(
            lambda topic=topic, snap=snap: list(
                OutboxEvent.objects.filter(customer_id=alice.pk, topic=topic, seq__gt=snap.seq, seq__lte=last)
                .order_by("seq")
                .values_list("seq", flat=True)
            )
        )()
        assert [f["seq"] for f in frames] == expected  # nothing missed, nothing repeated
        fresh = await sync_to_async(snapshots.api_snapshot)(client, topic)
        assert fresh.seq == last
        snapshots.assert_stream_rebuilds({topic: snap}, frames, {topic: fresh})
    assert await sync_to_async(Message.objects.filter(customer=alice).count)() == len(writes)

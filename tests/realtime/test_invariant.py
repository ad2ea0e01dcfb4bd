"""The invariant that proves the rest (Zulip's test_events): a snapshot at seq a, with the change
frames a..b applied, equals a fresh snapshot at b, for every event kind: every domain action,
ORM saves and deletes (cascades included), the bulk path and `mark_overdue_invoices`."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from realtime import sequence
from realtime.events import Event
from tests.realtime import snapshots
from tests.realtime.scenarios import every_action, existing_rows

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewer", ["customer", "staff"])
async def test_applying_every_event_kind_to_a_snapshot_gives_the_fresh_snapshot(
    viewer, people, sockets, tomorrow_window
):
    alice, bob, staff = people
    start, end = tomorrow_window()
    old_job = await sync_to_async(existing_rows)(alice, staff, start, end)
    user, customer = (alice.portal_user, None) if viewer == "customer" else (staff, alice.pk)
    client = await sync_to_async(snapshots.logged_in_client)(user)
    before = await sync_to_async(snapshots.api_snapshots)(client, customer)
    since = min(snap.seq for snap in before.values())
    assert before["invoices"].rows and all(
        row["status"] != "draft" for row in before["invoices"].rows.values()
    )

    socket = await sockets(user, "" if customer is None else f"?customer={alice.pk}")
    await socket.subscribe(since=since)
    await sync_to_async(every_action)(alice, bob, staff, start, end, old_job)
    last, _ = await sync_to_async(sequence.current)(alice.pk)
    frames = await socket.changes_through(last)
    after = await sync_to_async(snapshots.api_snapshots)(client, customer)

    snapshots.assert_gap_free(frames, since, last)
    assert {snap.seq for snap in after.values()} == {last}
    snapshots.assert_stream_rebuilds(before, frames, after)
    assert await socket.until_pong() == []

    assert "Rolled Back" not in str(frames) and "Never" not in str(frames)
    assert "Bob" not in str(frames)
    events = {frame["event"] for frame in frames}
    assert events == {str(event) for event in Event} - {Event.PROFILE_UPDATED}
    # The cascade: the old job's invoice and loyalty rows lost their `job` on the client too.
    nulled = [f for f in frames if f["op"] == "update" and f["changed"] == ["job"]]
    assert {(f["topic"], f["old"]["job"], f["new"]["job"]) for f in nulled} == {
        ("invoices", old_job.pk, None),
        ("loyalty", old_job.pk, None),
    }

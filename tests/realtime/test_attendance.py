"""Attendance for the digest emails (`realtime.attendance`): stamped at each sweep and when a
customer's own socket closes; a failed stamp never stops the sweep."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from realtime import attendance
from realtime.hub import hub
from realtime.models import Attendance

pytestmark = pytest.mark.django_db(transaction=True)


def stamped() -> dict[int, object]:
    return dict(Attendance.objects.values_list("customer_id", "connected_until"))


async def test_opening_and_closing_a_customers_own_tab_stamp_attendance_and_a_staff_tab_does_not(
    people, sockets
):
    alice, bob, staff = people
    opening = timezone.now()
    alice_socket = await sockets(alice.portal_user)
    staff_socket = await sockets(staff, f"?customer={bob.pk}")
    seen = await sync_to_async(stamped)()  # no sweep yet: the handshake stamped her
    assert set(seen) == {alice.pk} and seen[alice.pk] >= opening
    before = timezone.now()
    await alice_socket.close()
    await staff_socket.close()
    seen = await sync_to_async(stamped)()
    assert set(seen) == {alice.pk} and seen[alice.pk] >= before


async def test_sockets_closing_together_are_stamped_in_one_statement(people, sockets, monkeypatch):
    """A reconnect storm closes a thousand sockets at once: not one upsert each."""
    alice, bob, _staff = people
    open_ = [await sockets(alice.portal_user) for _ in range(4)] + [
        await sockets(bob.portal_user) for _ in range(3)
    ]
    statements: list[list[int]] = []
    record = attendance.record

    def counted(customer_ids):
        statements.append(sorted(customer_ids))
        record(customer_ids)

    monkeypatch.setattr(attendance, "record", counted)
    await asyncio.gather(*(socket.close() for socket in open_))
    assert set(await sync_to_async(stamped)()) == {alice.pk, bob.pk}
    assert Counter(pk for statement in statements for pk in statement) == {alice.pk: 4, bob.pk: 3}
    assert len(statements) <= 3  # two run at once; the rest gather behind them


async def test_a_failed_stamp_turns_no_socket_away(people, sockets, monkeypatch, caplog):
    alice, _bob, _staff = people

    def broken(_ids):
        raise RuntimeError("database away")

    monkeypatch.setattr(attendance, "record", broken)
    socket = await sockets(alice.portal_user)  # admitted: hello came
    assert socket.hello["customer"] == alice.pk
    assert "recording attendance failed" in caplog.text


async def test_a_failed_stamp_does_not_skip_the_sweeps_presence_refresh(people, sockets, monkeypatch, caplog):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.send({"type": "presence", "status": "active"})  # joins the room: the sweep refreshes it
    await socket.expect("presence")

    def broken(_ids):
        raise RuntimeError("database away")

    refreshed: list[int] = []
    monkeypatch.setattr(attendance, "record", broken)
    monkeypatch.setattr(hub().router, "presence_changed", refreshed.append)
    await hub().sweep_once()
    assert "recording attendance failed" in caplog.text
    assert alice.pk in refreshed


@pytest.mark.django_db
def test_record_ignores_missing_customers_and_stamps_each_once(make_customer):
    alice = make_customer("Alice Example")
    attendance.record([None, 0, alice.pk, alice.pk])
    assert set(stamped()) == {alice.pk}

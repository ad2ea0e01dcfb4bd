"""Fixtures for the realtime and security suites (tests/security imports them too)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from realtime import hub as hub_module
from tests.realtime import helpers


@pytest.fixture
def people(realtime_stack, make_customer, make_user):
    """Alice and Bob (customers with logins) and Sam (staff who may view customers)."""
    alice = make_customer("Alice Example", login="alice", phone="555-0100", address="1 Main St")
    bob = make_customer("Bob Example", login="bob")
    staff = make_user("sam", staff=True, perms=["crm.view_customer"], first_name="Sam", last_name="Staff")
    return alice, bob, staff


@pytest.fixture
async def sockets():
    """Open logged-in sockets with `await sockets(user, query)`; all are closed after the test."""
    opened: list[helpers.Socket] = []

    async def open_socket(user=None, query: str = "", **kwargs) -> helpers.Socket:
        socket = await helpers.connect(user, query, **kwargs)
        opened.append(socket)
        return socket

    yield open_socket
    for socket in opened:
        await socket.close()


@pytest.fixture(autouse=True)
def frames_recorded_by_this_test():
    """Re-check, when the test ends, the whole stream of frames it received."""
    start = len(helpers.RECORDED)
    yield
    for frame in helpers.RECORDED[start:]:
        helpers.check_frame(frame)


@pytest.fixture(autouse=True)
async def fresh_hub():
    """Each test has its own event loop (and maybe settings): the hub starts with the test's
    first socket and stops with the test."""
    await hub_module.reset()
    yield
    await hub_module.reset()


@pytest.fixture(autouse=True)
async def close_pool_thread_connections():
    """`sync_to_async` runs ORM calls in a pool thread whose connection nothing else closes;
    left open, it keeps the test database from being dropped at the end of the session."""
    yield
    await sync_to_async(connections.close_all)()

"""Many sockets at once, and more than one server: a reconnect storm of 1,000 sockets loses
nothing, and two daphne processes sharing PostgreSQL and Redis (the one-machine stand-in for
hosts behind a load balancer) serve every change, presence and a failover."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from crm.models import Customer, User
from realtime import sequence
from tests.faults.infra import start_daphne, start_writer
from tests.faults.test_outages import all_delivered, clients_for
from tests.realtime import helpers
from tests.realtime.test_contention import Browser

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("realtime_stack")]

STORM = 1000


@sync_to_async
def many_customers(count: int) -> list[tuple[int, str]]:
    """`count` customers with a portal login each and a live session: (customer id, session key)."""
    users = User.objects.bulk_create(User(username=f"storm{n}", password="!") for n in range(count))
    customers = Customer.objects.bulk_create(
        Customer(name=f"Storm {n}", email=f"storm{n}@example.com", portal_user=user)
        for n, user in enumerate(users)
    )
    store = SessionStore()
    expire = timezone.now() + timezone.timedelta(hours=1)
    sessions = [
        Session(
            session_key=f"storm{user.pk:032d}",
            session_data=store.encode(
                {
                    SESSION_KEY: str(user.pk),
                    BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                    HASH_SESSION_KEY: user.get_session_auth_hash(),
                }
            ),
            expire_date=expire,
        )
        for user in users
    ]
    Session.objects.bulk_create(sessions)
    return [(customer.pk, session.session_key) for customer, session in zip(customers, sessions, strict=True)]


async def subscribed_socket(server, cookie: str, since: int | None = None):
    """Open, read hello, subscribe (with since) and read through `subscribed`: (socket, seq, backlog)."""
    connection = await websockets.connect(
        server.ws_url,
        origin=server.url,
        additional_headers={"Cookie": f"sessionid={cookie}"},
        open_timeout=60,
    )
    hello = json.loads(await asyncio.wait_for(connection.recv(), 60))
    frame = {"type": "subscribe", "topics": ["messages"]}
    if since is not None:
        frame["since"] = since
    await connection.send(json.dumps(frame))
    backlog = []
    while (received := json.loads(await asyncio.wait_for(connection.recv(), 60)))["type"] != "subscribed":
        backlog.append(received)
    return connection, hello["seq"], backlog


async def test_a_reconnect_storm_of_1000_sockets_loses_nothing(tmp_path):
    people = await many_customers(STORM // 2)
    server = start_daphne(tmp_path, REALTIME_MAX_SOCKETS_PER_USER="5")
    try:
        started = time.monotonic()
        opened = await asyncio.gather(
            *(subscribed_socket(server, people[n % len(people)][1]) for n in range(STORM))
        )
        first = time.monotonic() - started
        customers = [people[n % len(people)][0] for n in range(STORM)]
        writer = start_writer([pk for pk, _key in people[:50]], 40, 20.0)
        await asyncio.sleep(0.5)
        # Everyone drops at once (a deploy, a network blip) and comes back with since.
        positions = [seq for _socket, seq, _backlog in opened]
        for socket, _seq, _backlog in opened:
            socket.transport.abort()
        started = time.monotonic()
        again = await asyncio.gather(
            *(subscribed_socket(server, people[n % len(people)][1], since=positions[n]) for n in range(STORM))
        )
        storm = time.monotonic() - started
        assert await asyncio.to_thread(writer.wait, 60) == 0
        # Each socket got exactly what its customer committed after its position: the backlog,
        # then live frames (read until the customer's latest seq).
        for n, (socket, _seq, backlog) in enumerate(again):
            latest, _pruned = await sync_to_async(sequence.current)(customers[n])
            seqs = [frame["seq"] for frame in backlog]
            while (seqs[-1] if seqs else positions[n]) < latest:
                frame = json.loads(await asyncio.wait_for(socket.recv(), 30))
                if frame["type"] == "change":
                    seqs.append(frame["seq"])
            assert seqs == list(range(positions[n] + 1, latest + 1)), f"socket {n}"
            await socket.close()
        print(f"{STORM} sockets: opened in {first:.1f} s, all subscribed again {storm:.1f} s after the drop")
    finally:
        server.stop()


async def test_two_servers_share_changes_and_presence_and_fail_over(people, tmp_path):
    alice, bob, staff = people
    first, second = start_daphne(tmp_path), start_daphne(tmp_path)
    try:
        on_first = await clients_for(first, [alice.portal_user, bob.portal_user])
        on_second = await clients_for(second, [alice.portal_user, bob.portal_user])
        for client, other in zip(on_first, (second, second), strict=True):
            client.fallbacks.append((other.ws_url, other.url))  # its load balancer's other backend

        # A change through either server, and one by a command process, reach all four.
        alice_browser = Browser(first, await helpers.session_cookie(alice.portal_user))
        bob_browser = Browser(second, await helpers.session_cookie(bob.portal_user))
        for browser in (alice_browser, bob_browser):
            assert (await asyncio.to_thread(browser.request, "GET", "/portal/messages/"))[0] == 200
            status, _headers, _body = await asyncio.to_thread(
                browser.request, "POST", "/portal/messages/send/", {"body": "through a server"}
            )
            assert status == 200
        assert await asyncio.to_thread(start_writer([alice.pk, bob.pk], 6, 20.0).wait, 60) == 0

        # Presence spans both: Alice's tab on the first server, staff watching on the second.
        tab = await helpers_socket(first, alice.portal_user)
        watcher = await helpers_socket(second, staff, f"?customer={alice.pk}")
        await watcher.send(json.dumps({"type": "presence", "status": "active"}))
        await tab.send(json.dumps({"type": "presence", "status": "active"}))
        key = f"user-{alice.portal_user.pk}"
        room: dict = {}
        while key not in room:
            frame = json.loads(await asyncio.wait_for(watcher.recv(), 10))
            if frame["type"] == "presence":
                room = frame["online"]
            elif frame["type"] == "presence_diff":
                room.update(frame["joined"])
        await tab.close()
        await watcher.close()

        # The first server dies: the second's sockets do not notice; the first's resume there.
        closes_before = [list(client.closes) for client in on_second]
        first.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.process.wait, 10)
        first.process = None
        assert await asyncio.to_thread(start_writer([alice.pk, bob.pk], 10, 20.0).wait, 60) == 0
        await all_delivered([*on_first, *on_second], [alice.pk, bob.pk, alice.pk, bob.pk])
        assert [client.closes for client in on_second] == closes_before
        assert all(client.url == second.ws_url for client in on_first)
    finally:
        first.stop()
        second.stop()


async def helpers_socket(server, user, query: str = ""):
    connection = await websockets.connect(
        server.ws_url + query,
        origin=server.url,
        additional_headers={"Cookie": f"sessionid={await helpers.session_cookie(user)}"},
        open_timeout=10,
    )
    assert json.loads(await asyncio.wait_for(connection.recv(), 10))["type"] == "hello"
    return connection


def rss_kb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):  # noqa: SIM115
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def test_twenty_flooding_sockets_are_closed_and_another_customers_ping_stays_quick(tmp_path):
    """The hostile review: one socket sending 5,000 pings/s grew daphne by 67 MB; twenty made
    another customer's ping 18x slower. Now each is warned, then closed with 1008."""
    people = await many_customers(21)
    server = start_daphne(tmp_path)
    try:
        flooders = [(await subscribed_socket(server, key))[0] for _pk, key in people[:20]]
        calm, _seq, _backlog = await subscribed_socket(server, people[20][1])
        before = rss_kb(server.process.pid)

        async def flood(connection) -> int | None:
            try:
                for _ in range(2000):
                    await connection.send('{"type": "ping"}')
                while True:
                    await asyncio.wait_for(connection.recv(), 10)
            except websockets.ConnectionClosed:
                return connection.close_code

        pings: list[float] = []

        async def measure() -> None:
            for _ in range(40):
                started = time.monotonic()
                await calm.send('{"type": "ping"}')
                while json.loads(await asyncio.wait_for(calm.recv(), 10))["type"] != "pong":
                    pass
                pings.append((time.monotonic() - started) * 1000)
                await asyncio.sleep(0.05)

        codes, _ = await asyncio.gather(asyncio.gather(*(flood(c) for c in flooders)), measure())
        assert codes == [1008] * len(flooders)
        assert len(pings) == 40  # answered every time, meanwhile
        grown = rss_kb(server.process.pid) - before
        pings.sort()
        print(
            f"calm ping during the flood: p50 {pings[20]:.1f} ms, max {pings[-1]:.1f} ms; daphne grew {grown} KB"
        )
        await calm.close()
    finally:
        server.stop()

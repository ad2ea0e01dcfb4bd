"""Break Redis, daphne and PostgreSQL on purpose while changes stream in: every committed change
still reaches every client exactly once and in order, and everything recovers by itself."""

from __future__ import annotations

import asyncio
import signal

import pytest
from asgiref.sync import sync_to_async

from crm import services
from realtime import sequence
from tests.faults.infra import (
    CuttableProxy,
    PrivateRedis,
    ResumingClient,
    database_url_via,
    start_daphne,
    start_writer,
    until,
)
from tests.realtime import helpers
from tests.realtime.test_contention import Browser

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("realtime_stack")]

WRITES = 60
RATE = 20.0


async def clients_for(server, users) -> list[ResumingClient]:
    clients = []
    for user in users:
        client = ResumingClient(server.ws_url, server.url, await helpers.session_cookie(user))
        client.start()
        clients.append(client)
    await until(
        lambda: all(client.last_seq is not None for client in clients), 20, "the clients to subscribe"
    )
    return clients


async def all_delivered(clients: list[ResumingClient], customers: list[int], timeout: float = 30) -> None:
    """Wait until each client has its customer's every change, then check there is no gap."""
    latest = {pk: (await sync_to_async(sequence.current)(pk))[0] for pk in set(customers)}
    starts = [client.changes[0]["seq"] - 1 if client.changes else client.last_seq for client in clients]
    await until(
        lambda: all(client.last_seq == latest[pk] for client, pk in zip(clients, customers, strict=True)),
        timeout,
        "every change at every client",
    )
    for client, pk, start in zip(clients, customers, starts, strict=True):
        await client.stop()
        assert client.seqs() == list(range(start + 1, latest[pk] + 1)), f"customer {pk}: a gap or a repeat"


async def test_redis_stopped_and_started_loses_nothing(people, tmp_path):
    alice, bob, _staff = people
    redis = PrivateRedis(tmp_path)
    redis.start()
    env = {"REDIS_URL": redis.url, "REALTIME_LAYER_PREFIX": "faults-redis"}
    server = start_daphne(tmp_path, **env)
    try:
        clients = await clients_for(server, [alice.portal_user, alice.portal_user, bob.portal_user])
        writer = start_writer([alice.pk, bob.pk], WRITES, RATE, **env)
        await asyncio.sleep(1.0)
        redis.stop()  # live frames stop; saves still commit
        await asyncio.sleep(1.5)
        redis.start()
        assert await asyncio.to_thread(writer.wait, 60) == 0
        await all_delivered(clients, [alice.pk, alice.pk, bob.pk])
    finally:
        server.stop()
        redis.stop()


async def test_a_socket_opened_while_redis_is_down_closes_with_1011(people, tmp_path):
    alice, _bob, _staff = people
    redis = PrivateRedis(tmp_path)
    redis.start()
    server = start_daphne(tmp_path, REDIS_URL=redis.url, REALTIME_LAYER_PREFIX="faults-down")
    try:
        redis.stop()
        import websockets

        cookie = await helpers.session_cookie(alice.portal_user)
        async with websockets.connect(
            server.ws_url,
            origin=server.url,
            additional_headers={"Cookie": f"sessionid={cookie}"},
            open_timeout=10,
        ) as connection:
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(connection.recv(), 15)
            assert connection.close_code == 1011  # accepted, then "try again later": not HTTP 500
    finally:
        server.stop()


async def test_daphne_killed_and_restarted_clients_resume(people, tmp_path):
    alice, bob, _staff = people
    server = start_daphne(tmp_path)
    try:
        clients = await clients_for(server, [alice.portal_user, bob.portal_user])
        writer = start_writer([alice.pk, bob.pk], WRITES, RATE)
        await asyncio.sleep(1.0)
        server.process.send_signal(signal.SIGKILL)  # no goodbye: sockets see 1006
        await asyncio.to_thread(server.process.wait, 10)
        server.process = None
        await asyncio.sleep(0.5)
        server.start()
        assert await asyncio.to_thread(writer.wait, 60) == 0
        await all_delivered(clients, [alice.pk, bob.pk])
        assert any(1006 in client.closes or None in client.closes for client in clients)
    finally:
        server.stop()


async def test_postgres_unreachable_fails_cleanly_and_recovers(people, tmp_path):
    alice, bob, _staff = people
    proxy = CuttableProxy()
    proxy.mend()
    server = start_daphne(tmp_path, DATABASE_URL=database_url_via(proxy.port), DB_POOL_TIMEOUT_SECONDS="1")
    try:
        browser = Browser(server, await helpers.session_cookie(alice.portal_user))
        assert (await asyncio.to_thread(browser.request, "GET", "/portal/messages/"))[0] == 200
        clients = await clients_for(server, [alice.portal_user, bob.portal_user])
        writer = start_writer([alice.pk, bob.pk], WRITES, RATE)  # straight to PostgreSQL
        await asyncio.sleep(1.0)
        proxy.cut()
        # The portal answers 503 with Retry-After in bounded time; nothing half-saved.
        status, headers, _body = await asyncio.to_thread(
            browser.request, "POST", "/portal/messages/send/", {"body": "while the database is away"}
        )
        assert status == 503 and headers.get("Retry-After")
        await asyncio.sleep(1.0)
        proxy.mend()
        assert await asyncio.to_thread(writer.wait, 60) == 0
        # Recovers by itself: a client that honours Retry-After gets through within seconds
        # (the pool reconnects with its own backoff once the database answers again).
        for _attempt in range(10):
            status, headers, _body = await asyncio.to_thread(
                browser.request, "POST", "/portal/messages/send/", {"body": "back again"}
            )
            if status != 503:
                break
            await asyncio.sleep(int(headers["Retry-After"]))
        assert status == 200
        await all_delivered(clients, [alice.pk, bob.pk])
        assert {code for client in clients for code in client.closes} <= {1011, 1006, None}
    finally:
        server.stop()
        proxy.close()


async def test_a_client_that_stops_reading_is_dropped_and_the_others_go_on(people, tmp_path):
    """ASGI has no backpressure: without a limit daphne kept every frame for a stalled client."""
    import socket as socket_module

    import websockets

    alice, bob, _staff = people
    server = start_daphne(tmp_path, REALTIME_SLOW_READER_SECONDS="1", REALTIME_SLOW_READER_BYTES="262144")
    try:
        other = (await clients_for(server, [bob.portal_user]))[0]
        raw = socket_module.socket()
        raw.setsockopt(socket_module.SOL_SOCKET, socket_module.SO_RCVBUF, 4096)  # reads nothing more
        raw.connect(("127.0.0.1", server.port))
        stalled = await websockets.connect(
            server.ws_url,
            sock=raw,
            origin=server.url,
            additional_headers={"Cookie": f"sessionid={await helpers.session_cookie(alice.portal_user)}"},
            max_queue=1,
            open_timeout=10,
        )
        await stalled.send('{"type": "subscribe", "topics": ["messages"]}')
        body = "x" * 4900
        for n in range(1200):  # about 6 MB: more than the kernel buffers take on loopback
            await sync_to_async(services.post_message)(customer=alice, body=f"{n} {body}", author=None)
        await sync_to_async(services.post_message)(customer=bob, body="still flowing", author=None)
        await until(
            lambda: any(c["new"]["body"] == "still flowing" for c in other.changes), 20, "Bob's change"
        )
        # The server let go of the stalled socket (daphne logs each disconnect); Bob's stays.
        await until(lambda: "WSDISCONNECT" in server.log_path.read_text(), 20, "the stalled socket's drop")
        assert server.log_path.read_text().count("WSDISCONNECT") == 1
        await other.stop()
        stalled.transport.abort()
    finally:
        server.stop()

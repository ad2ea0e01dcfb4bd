"""SIGTERM to daphne: every socket is closed with 1012 (service restart), the process exits 0,
every time, and clients resume on the restarted process without losing a change."""

from __future__ import annotations

import asyncio
import signal

import pytest
import websockets
from asgiref.sync import sync_to_async

from crm import services
from tests.realtime import helpers

pytestmark = pytest.mark.django_db(transaction=True)

RESTARTS = 3


async def open_socket(server, cookie: str, since: int | None = None):
    connection = await websockets.connect(
        server.ws_url,
        origin=server.url,
        additional_headers={"Cookie": f"sessionid={cookie}"},
        open_timeout=10,
    )
    hello = helpers.record_text(await asyncio.wait_for(connection.recv(), 10))
    frame = {"type": "subscribe", "topics": ["messages"]}
    if since is not None:
        frame["since"] = since
    await connection.send(helpers.json.dumps(frame))
    frames = []
    while (received := helpers.record_text(await asyncio.wait_for(connection.recv(), 10)))[
        "type"
    ] != "subscribed":
        frames.append(received)
    return connection, hello, frames


async def close_code(connection) -> int | None:
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(connection.recv(), 10)
    return connection.close_code


async def test_sigterm_closes_every_socket_with_1012_and_exits_0_every_time(daphne_factory, people):
    alice, bob, _staff = people
    server = daphne_factory()
    cookies = [await helpers.session_cookie(user) for user in (alice.portal_user, bob.portal_user)]
    for _round in range(RESTARTS):
        sockets = [(await open_socket(server, cookies[n % 2]))[0] for n in range(6)]
        process = server.process
        process.send_signal(signal.SIGTERM)
        codes = await asyncio.gather(*(close_code(socket) for socket in sockets))
        assert codes == [1012] * len(sockets)
        returncode = await asyncio.to_thread(process.wait, 10)
        log = server.log_path.read_text()
        assert returncode == 0, log[-3000:]
        assert "Segmentation fault" not in log and "Traceback" not in log, log[-3000:]
        server.process = None
        server.start()


async def test_clients_resume_on_the_restarted_process_without_losing_a_change(daphne_factory, people):
    alice, _bob, _staff = people
    server = daphne_factory()
    cookie = await helpers.session_cookie(alice.portal_user)
    socket, hello, _ = await open_socket(server, cookie)
    server.process.send_signal(signal.SIGTERM)
    assert await close_code(socket) == 1012
    await asyncio.to_thread(server.process.wait, 10)
    # Written while no server runs: the outbox keeps them.
    for n in range(3):
        await sync_to_async(services.post_message)(customer=alice, body=f"while down {n}", author=None)
    server.process = None
    server.start()
    _socket, _hello, missed = await open_socket(server, cookie, since=hello["seq"])
    assert [frame["new"]["body"] for frame in missed] == [f"while down {n}" for n in range(3)]
    await _socket.close()

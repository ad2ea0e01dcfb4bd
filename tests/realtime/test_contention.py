"""One customer stuck behind a lock must not stall anyone else.

A transaction holds Alice's sequence row and does not end, and twenty of Alice's message sends
pile up behind it. Bob's page load and socket still answer while they wait, and Alice's
requests end in bounded time with 503 and Retry-After (a lock timeout, or no write slot), not a
500, an endless wait or an empty connection pool.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import psycopg
import pytest
import websockets
from asgiref.sync import sync_to_async

from crm import services
from tests.conftest import database_url_for_tests
from tests.realtime import helpers

pytestmark = pytest.mark.django_db(transaction=True)

PILE = 20


class Browser:
    """A logged-in HTTP client of the daphne process (session and CSRF cookies)."""

    def __init__(self, server, session_key: str) -> None:
        self.server = server
        self.cookies = {"sessionid": session_key}

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 30):
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Accept": "application/json",
        }
        data = None
        if body is not None:
            data = urlencode(body)
            headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-CSRFToken": self.cookies.get("csrftoken", ""),
                    "Origin": self.server.url,
                }
            )
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
        content = response.read()
        connection.close()
        return response.status, dict(response.headers), content


async def test_a_stuck_customer_does_not_stall_the_others(daphne_server, people):
    alice, bob, _staff = people
    await sync_to_async(services.post_message)(customer=alice, body="before the lock", author=None)
    alice_browser = Browser(daphne_server, await helpers.session_cookie(alice.portal_user))
    bob_browser = Browser(daphne_server, await helpers.session_cookie(bob.portal_user))
    assert (await asyncio.to_thread(alice_browser.request, "GET", "/portal/messages/"))[
        0
    ] == 200  # CSRF cookie
    bob_socket = await websockets.connect(
        daphne_server.ws_url,
        origin=daphne_server.url,
        additional_headers={"Cookie": f"sessionid={bob_browser.cookies['sessionid']}"},
        open_timeout=10,
    )
    helpers.record_text(await asyncio.wait_for(bob_socket.recv(), 10))

    # A writer that holds Alice's sequence row and does not end.
    stuck = await asyncio.to_thread(psycopg.connect, database_url_for_tests())
    await asyncio.to_thread(
        stuck.execute,
        "UPDATE realtime_customersequence SET last_seq = last_seq WHERE customer_id = %s",
        [alice.pk],
    )
    finished = threading.Event()
    try:
        pool = ThreadPoolExecutor(max_workers=PILE)
        sends = [
            pool.submit(alice_browser.request, "POST", "/portal/messages/send/", {"body": f"piled up {n}"})
            for n in range(PILE)
        ]
        await asyncio.sleep(0.3)  # the sends are in: some wait on the lock, the rest were turned away

        # Bob is served while Alice's writes still wait on the lock.
        status, _headers, _body = await asyncio.to_thread(bob_browser.request, "GET", "/portal/", None, 10)
        assert status == 200
        await bob_socket.send('{"type": "ping"}')
        assert helpers.record_text(await asyncio.wait_for(bob_socket.recv(), 5))["type"] == "pong"
        assert not all(send.done() for send in sends), "Bob was answered only after Alice's pile"

        results = [await asyncio.wrap_future(send) for send in sends]
        finished.set()
    finally:
        await asyncio.to_thread(stuck.rollback)
        await asyncio.to_thread(stuck.close)
        await bob_socket.close()
    # Every piled-up send ended in 503 + Retry-After (no 500, nothing saved twice or half).
    assert {status for status, _headers, _body in results} == {503}
    assert all(headers.get("Retry-After") for _status, headers, _body in results)
    # Once the lock is gone, Alice's next send works.
    status, _headers, _body = await asyncio.to_thread(
        alice_browser.request, "POST", "/portal/messages/send/", {"body": "after the lock"}
    )
    assert status == 200

"""Across process boundaries: saves made by management commands and shells reach a socket served
by a separate daphne process, in seq order even with several writer processes at once."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.utils import timezone

from crm import services
from tests.conftest import ROOT, child_env
from tests.realtime import helpers, snapshots

pytestmark = pytest.mark.django_db(transaction=True)


class DaphneSocket:
    """A real WebSocket client (the `websockets` library) whose frames are checked and recorded."""

    def __init__(self, connection) -> None:
        self.connection = connection

    async def recv(self, timeout: float = 10) -> dict:
        return helpers.record_text(await asyncio.wait_for(self.connection.recv(), timeout))

    async def expect(self, kind: str, timeout: float = 10) -> dict:
        frame = await self.recv(timeout)
        assert frame["type"] == kind, frame
        return frame

    async def send(self, frame: dict) -> None:
        await self.connection.send(helpers.json.dumps(frame))


@pytest.fixture
async def daphne_socket(daphne_server, people):
    """Connect as a user to the daphne process: `await daphne_socket(user)`."""
    opened = []

    async def open_socket(user, topics=helpers.TOPICS) -> DaphneSocket:
        cookie = await helpers.session_cookie(user)
        connection = await websockets.connect(
            daphne_server.ws_url,
            origin=daphne_server.url,
            additional_headers={"Cookie": f"sessionid={cookie}"},
            open_timeout=10,
        )
        opened.append(connection)
        socket = DaphneSocket(connection)
        socket.hello = await socket.expect("hello")
        await socket.send({"type": "subscribe", "topics": list(topics)})
        await socket.expect("subscribed")
        return socket

    yield open_socket
    for connection in opened:
        await connection.close()


async def manage(*args: str) -> str:
    """Run `python manage.py ...` against the test database; returns its stdout."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "manage.py",
        *args,
        cwd=ROOT,
        env=child_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


async def test_mark_overdue_invoices_in_a_command_process_reaches_a_daphne_socket(people, daphne_socket):
    alice, bob, _staff = people

    @sync_to_async
    def due_today():
        made = []
        for customer in (alice, bob):
            invoice = services.create_invoice(customer=customer, total="42")
            made.append(services.send_invoice(invoice=invoice, due_date=timezone.localdate()))
        return made

    alice_invoice, _bob_invoice = await due_today()
    socket = await daphne_socket(alice.portal_user, ["invoices"])
    output = await manage(
        "shell",
        "-c",
        "import datetime; from django.utils import timezone; from crm import services; "
        "print(services.mark_overdue_invoices(today=timezone.localdate() + datetime.timedelta(days=1)))",
    )
    assert output.strip().splitlines()[-1] == "2"
    frame = await socket.expect("change")
    assert (frame["id"], frame["event"], frame["changed"], frame["new"]["status"]) == (
        alice_invoice.pk,
        "invoice.overdue",
        ["status"],
        "overdue",
    )
    assert frame["seq"] == socket.hello["seq"] + 1
    await socket.send({"type": "ping"})
    assert await socket.expect("pong") == {"type": "pong", "seq": frame["seq"]}  # and nothing of Bob's


async def test_concurrent_writer_processes_arrive_in_seq_order(people, daphne_socket):
    alice, _bob, _staff = people
    socket = await daphne_socket(alice.portal_user, ["messages", "loyalty"])
    per_process = 10
    script = (
        "from crm import services; from crm.models import Customer; "
        f"c = Customer.objects.get(pk={alice.pk}); "
        "[(services.post_message(customer=c, body='NAME %d' % n, author=None), "
        f"services.award_points(customer=c, points=1)) for n in range({per_process})]"
    )
    await asyncio.gather(*(manage("shell", "-c", script.replace("NAME", name)) for name in "AB"))
    frames = [await socket.expect("change") for _ in range(4 * per_process)]
    snapshots.assert_gap_free(frames, socket.hello["seq"], socket.hello["seq"] + 4 * per_process)
    for name in "AB":
        bodies = [
            f["new"]["body"] for f in frames if f["topic"] == "messages" and f["new"]["body"][0] == name
        ]
        assert bodies == [f"{name} {n}" for n in range(per_process)]


async def test_commit_to_socket_latency_through_daphne(people, daphne_socket):
    """Not a benchmark (bench/ is): a guard that a save shows up well within the seed's second."""
    alice, _bob, _staff = people
    socket = await daphne_socket(alice.portal_user, ["messages"])
    after_commit, from_call = [], []
    for n in range(30):
        started = time.perf_counter()
        await sync_to_async(services.post_message)(customer=alice, body=f"timed {n}", author=None)
        committed = time.perf_counter()
        frame = await socket.expect("change", timeout=5)
        received = time.perf_counter()
        assert frame["new"]["body"] == f"timed {n}"
        after_commit.append(received - committed)
        from_call.append(received - started)
    for name, values in (("after the service returned", after_commit), ("from the service call", from_call)):
        values.sort()
        print(  # shown with -s
            f"socket latency via daphne {name}: p50 {statistics.median(values) * 1000:.1f} ms, "
            f"max {values[-1] * 1000:.1f} ms over {len(values)} changes"
        )
    assert max(from_call) < 1.0


@pytest.mark.parametrize(
    ("path", "login", "code"),
    [
        ("/ws/other/", True, 4404),  # an unknown path: closed with a code, not HTTP 500
        ("/ws/realtime/", False, 4401),  # no session
        ("/ws/realtime/?customer=abc", True, 4403),  # a bad customer id
    ],
)
async def test_refusals_reach_a_real_client_as_close_codes(daphne_server, people, path, login, code):
    """Through daphne, not only in-process: every refusal arrives as its documented close code."""
    alice, _bob, _staff = people
    headers = {"Cookie": f"sessionid={await helpers.session_cookie(alice.portal_user)}"} if login else {}
    async with websockets.connect(
        daphne_server.url.replace("http", "ws") + path,
        origin=daphne_server.url,
        additional_headers=headers,
        open_timeout=10,
    ) as connection:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(connection.recv(), 10)
        assert connection.close_code == code

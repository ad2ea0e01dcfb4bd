"""The staff stream on the embedded default (SQLite, in-memory layer, one daphne process): an
inbox change saved by another process reaches an open staff socket through its tail, and
SIGTERM closes staff sockets with 1012 like the portal's, then daphne exits 0."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.conftest import DaphneServer
from tests.realtime.embedded import embedded_daphne, manage, sigterm_and_restart

SETUP = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Permission
from django.contrib.sessions.backends.db import SessionStore
from crm.models import Customer, User
staff = User.objects.create_user("sam", password="sam-pw", is_staff=True)
staff.user_permissions.add(Permission.objects.get(codename="view_customer"))
customer = Customer.objects.create(name="Alice Example", email="alice@example.com")
session = SessionStore()
session.update({SESSION_KEY: str(staff.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: staff.get_session_auth_hash()})
session.create()
print(session.session_key, customer.pk)
"""

MESSAGE = """
from crm import services
from crm.models import Customer
services.customer_message(customer=Customer.objects.get(pk={customer}), body="from a shell", author=None)
"""


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    with embedded_daphne(tmp_path_factory.mktemp("embedded-staff"), SETUP) as running:
        yield running


async def open_staff_socket(server: DaphneServer, session_key: str):
    connection = await websockets.connect(
        server.ws_url.replace("/ws/realtime/", "/ws/staff/"),
        origin=server.url,
        additional_headers={"Cookie": f"sessionid={session_key}"},
        open_timeout=10,
    )
    hello = json.loads(await asyncio.wait_for(connection.recv(), 10))
    assert hello["type"] == "hello" and hello["stream"] == "staff", hello
    await connection.send(json.dumps({"type": "subscribe", "topics": ["inbox"], "since": hello["seq"]}))
    assert json.loads(await asyncio.wait_for(connection.recv(), 10))["type"] == "subscribed"
    # Then who of the inbox has the portal open (unnumbered; tests/crm/test_staff_inbox_presence.py).
    assert json.loads(await asyncio.wait_for(connection.recv(), 10))["type"] == "customer_presence"
    return connection, hello


async def test_an_inbox_change_from_another_process_reaches_the_staff_socket(embedded):
    server, env, session_key, customer = embedded
    connection, hello = await open_staff_socket(server, session_key)
    await asyncio.to_thread(manage, env, "shell", "-v", "0", "-c", MESSAGE.format(customer=customer))
    frame = json.loads(await asyncio.wait_for(connection.recv(), 10))
    assert (frame["type"], frame["seq"], frame["event"]) == ("change", hello["seq"] + 1, "inbox.created")
    assert frame["new"]["text"] == "from a shell"
    await connection.close()


async def test_sigterm_closes_staff_sockets_with_1012_and_daphne_exits_0(embedded):
    server, _env, session_key, _customer = embedded
    sockets = [(await open_staff_socket(server, session_key))[0] for _ in range(3)]
    log = await sigterm_and_restart(server, sockets)
    assert "Task was destroyed" not in log, log[-3000:]

"""The wire protocol of docs/protocol.md: hello, subscribe/unsubscribe, ping, and error frames
for bad input on a socket that stays open."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async

from crm import services
from realtime import sequence

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def post(customer, body: str):
    return services.post_message(customer=customer, body=body, author=None)


async def test_hello_names_the_customer_its_seq_and_the_topics(people, sockets):
    alice, _bob, _staff = people
    await post(alice, "one")
    last, _ = await sync_to_async(sequence.current)(alice.pk)
    socket = await sockets(alice.portal_user)
    # {"type": "hello", "customer": 7, "seq": 41, "topics": ["profile", "jobs", ...]}
    assert socket.hello == {
        "type": "hello",
        "customer": alice.pk,
        "seq": last,
        "topics": ["profile", "jobs", "invoices", "messages", "loyalty"],
    }


async def test_subscribe_unsubscribe_and_ping(people, sockets):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    seq = socket.hello["seq"]
    # {"type": "subscribed", "topics": ["invoices", "jobs"], "seq": 41}
    assert await socket.subscribe(["jobs", "invoices", "jobs"]) == {
        "type": "subscribed",
        "topics": ["invoices", "jobs"],
        "seq": seq,
    }
    assert await socket.subscribe(["messages"]) == {
        "type": "subscribed",
        "topics": ["invoices", "jobs", "messages"],
        "seq": seq,
    }
    await post(alice, "while subscribed")
    [frame] = await socket.changes(1)
    assert frame["seq"] == seq + 1

    await socket.send({"type": "unsubscribe", "topics": ["messages", "invoices"]})
    assert await socket.expect("subscribed") == {"type": "subscribed", "topics": ["jobs"], "seq": seq + 1}
    await post(alice, "after unsubscribing")
    # {"type": "pong", "seq": 42}: the socket handled seq + 2 but sent nothing for it.
    await socket.send({"type": "ping"})
    assert await socket.recv() == {"type": "pong", "seq": seq + 2}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('{"topics": ["jobs"]}', "bad_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "subscribe", "topics": ["jobs", "job"]}', "unknown_topic"),
        ('{"type": "subscribe", "topics": []}', "bad_topics"),
        ('{"type": "subscribe", "topics": "jobs"}', "bad_topics"),
        ('{"type": "subscribe", "topics": [1]}', "bad_topics"),
        ('{"type": "unsubscribe"}', "bad_topics"),
        ('{"type": "subscribe", "topics": ["jobs"], "since": -1}', "bad_since"),
        ('{"type": "subscribe", "topics": ["jobs"], "since": "4"}', "bad_since"),
        ('{"type": "subscribe", "topics": ["jobs"], "since": true}', "bad_since"),
        ('{"type": "subscribe", "topics": ["jobs"], "since": 1.5}', "bad_since"),
        (json.dumps({"type": "ping", "pad": "x" * 17000}), "too_large"),
        # The limit is in bytes: 9,000 two-byte characters are 18,000 bytes.
        (json.dumps({"type": "ping", "pad": "é" * 9000}, ensure_ascii=False), "too_large"),
    ],
)
async def test_bad_input_gets_an_error_frame_and_the_socket_stays_open(people, sockets, text, code):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.comm.send_to(text_data=text)
    error = await socket.expect("error")
    assert error["code"] == code and error["message"]
    # Nothing was subscribed by a refused frame, and the socket still works.
    assert (await socket.subscribe(["profile"]))["topics"] == ["profile"]
    await socket.send({"type": "ping"})
    assert (await socket.expect("pong"))["seq"] == socket.hello["seq"]


async def test_a_binary_frame_gets_an_error(people, sockets):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.comm.send_to(bytes_data=b'{"type": "ping"}')
    assert (await socket.expect("error"))["code"] == "bad_frame"
    await socket.send({"type": "ping"})
    assert (await socket.expect("pong"))["type"] == "pong"

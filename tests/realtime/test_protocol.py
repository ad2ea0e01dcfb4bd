"""The wire protocol of docs/protocol.md: hello, subscribe/unsubscribe, ping, and error frames
for bad input on a socket that stays open."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from crm import services
from realtime import protocol, sequence
from tests.realtime import helpers

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def post(customer, body: str):
    return services.post_message(customer=customer, body=body, author=None)


async def test_hello_names_the_customer_its_seq_and_the_topics(people, sockets):
    alice, _bob, _staff = people
    await post(alice, "one")
    last, _ = await sync_to_async(sequence.current)(alice.pk)
    socket = await sockets(alice.portal_user)
    # {"type": "hello", "customer": 7, "seq": 41, "topics": ["jobs", "invoices", ...]}
    assert socket.hello == {
        "type": "hello",
        "customer": alice.pk,
        "seq": last,
        "topics": ["jobs", "invoices", "messages", "loyalty", "profile", "requests"],
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
    assert await socket.until_pong() == []
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


async def test_deeply_nested_json_gets_an_error_frame(people, sockets):
    """Nesting deeper than the JSON parser's recursion limit (RecursionError) is bad JSON, not a
    crashed handler: the socket answers and goes on."""
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.comm.send_to(text_data="[" * 8000 + "]" * 8000)
    # Python 3.11 cannot parse it (bad_json); 3.13 can, and it is then no object (bad_frame).
    assert (await socket.expect("error"))["code"] in {"bad_json", "bad_frame"}
    await socket.send({"type": "ping"})
    assert (await socket.expect("pong"))["type"] == "pong"


async def test_since_null_is_the_same_as_no_since(people, sockets):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.send({"type": "subscribe", "topics": ["messages"], "since": None})
    assert await socket.recv() == {"type": "subscribed", "topics": ["messages"], "seq": socket.hello["seq"]}


async def test_subscribe_is_all_or_nothing(people, sockets):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.send({"type": "subscribe", "topics": ["messages", "job"]})
    assert (await socket.expect("error"))["code"] == "unknown_topic"
    await post(alice, "not subscribed")
    # Nothing was added: the ping finds nothing owed to the socket.
    assert await socket.until_pong() == []


async def test_subscribed_comes_after_the_backlog_it_announces(people, sockets):
    """`subscribed` carries the socket's position: every change up to its seq has been sent when
    it arrives, including the backlog an older `since` asked for."""
    alice, _bob, _staff = people
    for n in range(3):
        await post(alice, f"earlier {n}")
    socket = await sockets(alice.portal_user)
    start = socket.hello["seq"]
    await socket.send({"type": "subscribe", "topics": ["messages"], "since": start - 3})
    frames = [await socket.recv() for _ in range(4)]
    assert [(f["type"], f["seq"]) for f in frames] == [
        ("change", start - 2),
        ("change", start - 1),
        ("change", start),
        ("subscribed", start),
    ]


async def test_an_unknown_websocket_path_is_closed_with_4404(people):
    alice, _bob, _staff = people
    cookie = await helpers.session_cookie(alice.portal_user)
    communicator = WebsocketCommunicator(
        application,
        "/ws/other/",
        headers=[
            (b"host", b"testserver"),
            (b"origin", b"http://testserver"),
            (b"cookie", f"sessionid={cookie}".encode()),
        ],
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert await communicator.receive_output(5) == {"type": "websocket.close", "code": 4404}
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (
            '{"type": "subscribe", "topics": ["jobs", "jobs"]}',
            {"type": "subscribe", "topics": ["jobs"], "since": None},
        ),
        (
            '{"type": "subscribe", "topics": ["jobs"], "since": 0}',
            {"type": "subscribe", "topics": ["jobs"], "since": 0},
        ),
        ('{"type": "unsubscribe", "topics": ["loyalty"]}', {"type": "unsubscribe", "topics": ["loyalty"]}),
        ('{"type": "ping", "extra": 1}', {"type": "ping"}),
        ('{"type": "presence", "status": "idle"}', {"type": "presence", "status": "idle"}),
        ('{"type": "presence", "status": "offline"}', {"type": "presence", "status": "offline"}),
        ('{"type": "typing", "typing": false}', {"type": "typing", "typing": False}),
    ],
)
def test_parsing_gives_the_typed_client_frame(raw, parsed):
    frame = protocol.parse_client_frame(raw, None, known_topics=["jobs", "loyalty"])
    assert frame == parsed
    expected_keys = protocol.CLIENT_FRAMES[parsed["type"]]
    assert set(frame) <= expected_keys.__required_keys__ | expected_keys.__optional_keys__


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ('{"type": "presence", "status": "busy"}', "bad_status"),
        ('{"type": "presence"}', "bad_status"),
        ('{"type": "typing", "typing": 1}', "bad_typing"),
        ("[" * 100_000, "bad_json"),
        ("\u0000", "bad_json"),
    ],
)
def test_parsing_refuses_with_the_documented_code(raw, code):
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.parse_client_frame(raw[: protocol.MAX_FRAME_BYTES], None, known_topics=["jobs"])
    assert refused.value.code == code

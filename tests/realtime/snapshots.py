"""Snapshots from the API and applying change frames to them: the pair behind Zulip-style
"apply the stream to an earlier state, compare with a fresh one" tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.test import Client

from tests.realtime.helpers import FORBIDDEN_TEXT, TOPICS, check_row


@dataclass
class TopicSnapshot:
    seq: int
    rows: dict[int, dict[str, Any]]
    balance: int | None = None


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_snapshot(client: Client, topic: str, customer: int | None = None) -> TopicSnapshot:
    """One topic from the snapshot API, in one page so the whole of it is at one `seq`."""
    params: dict[str, Any] = {} if customer is None else {"customer": customer}
    if topic == "profile":
        response = client.get("/api/portal/profile/", params)
        assert response.status_code == 200, response.content
        body = response.json()
        check_row("profile", body["profile"])
        return TopicSnapshot(body["seq"], {body["profile"]["id"]: body["profile"]})
    response = client.get(f"/api/portal/{topic}/", {**params, "limit": 1000})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"]) and body["next"] is None
    for row in body["results"]:
        check_row(topic, row)
    assert FORBIDDEN_TEXT[1] not in response.content.decode()
    return TopicSnapshot(body["seq"], {row["id"]: row for row in body["results"]}, body.get("balance"))


def api_snapshots(client: Client, customer: int | None = None) -> dict[str, TopicSnapshot]:
    return {topic: api_snapshot(client, topic, customer) for topic in TOPICS}


def apply_changes(rows: dict[int, dict[str, Any]], frames) -> dict[int, dict[str, Any]]:
    """docs/protocol.md: insert adds `new`, update replaces with `new`, delete removes by id."""
    rows = dict(rows)
    for frame in frames:
        if frame["op"] == "insert":
            assert frame["id"] not in rows, f"insert of a row the client has: {frame}"
            rows[frame["id"]] = frame["new"]
        elif frame["op"] == "update":
            assert frame["id"] in rows, f"update of a row the client does not have: {frame}"
            assert rows[frame["id"]] == frame["old"], f"`old` is not the client's row: {frame}"
            rows[frame["id"]] = frame["new"]
        else:
            assert frame["id"] in rows, f"delete of a row the client does not have: {frame}"
            del rows[frame["id"]]
    return rows


def assert_gap_free(frames, after: int, upto: int) -> None:
    assert [f["seq"] for f in frames] == list(range(after + 1, upto + 1))


def assert_stream_rebuilds(before: dict[str, TopicSnapshot], frames, after: dict[str, TopicSnapshot]):
    """Zulip's test_events: each topic's earlier snapshot plus its change frames from the
    snapshot's seq to the later one's equals the later snapshot."""
    for topic, start in before.items():
        end = after[topic]
        assert end.seq >= start.seq
        applied = apply_changes(
            start.rows, [f for f in frames if f["topic"] == topic and start.seq < f["seq"] <= end.seq]
        )
        differing = {
            key: (applied.get(key), end.rows.get(key))
            for key in applied.keys() | end.rows.keys()
            if applied.get(key) != end.rows.get(key)
        }
        assert applied == end.rows, f"{topic}: (client's copy, fresh snapshot) differ: {differing}"
        if topic == "loyalty":
            assert end.balance == sum(row["points"] for row in applied.values())

"""Small helpers the event tests share: run a service from async code, ISO times as the
serializers write them, and the check that frames come in consecutive seqs."""

from __future__ import annotations

import datetime as dt

from asgiref.sync import sync_to_async

from realtime import registry


def fields(topic: str) -> list[str]:
    entry = registry.for_topic(topic)
    assert entry is not None, topic
    return entry.fields


def iso(value: dt.datetime | None) -> str | None:
    """A datetime as the portal serializers write it (DRF: ISO 8601, UTC as Z)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


async def act(function, /, **kwargs):
    return await sync_to_async(function)(**kwargs)


@sync_to_async
def orm(function):
    return function()


def assert_consecutive(frames, after: int) -> None:
    assert [f["seq"] for f in frames] == list(range(after + 1, after + 1 + len(frames)))

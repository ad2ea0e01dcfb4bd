"""Presence: who is looking at a customer's portal right now (the seed's `usePresence`).

One room per customer: the customer's own sockets and staff watching that customer. Each socket
that joins has an entry with a time to live, refreshed by its process's hub at every sweep, so
a process that dies without saying goodbye drops out by itself. With Redis the entries live in
one hash per room (shared by every daphne process); without it, in this process's memory.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from django.conf import settings
from redis import asyncio as aioredis


def presence_ttl() -> float:
    return max(settings.REALTIME_CHECK_INTERVAL * 2.5, 10.0)


def _room(customer_id: int) -> str:
    return f"rt:presence:{customer_id}"


def online_users(entries: dict[str, dict[str, Any]], now: float) -> dict[str, dict[str, Any]]:
    """Collapse socket entries to one per user (the seed's `onlineUsers` map)."""
    users: dict[str, dict[str, Any]] = {}
    for entry in sorted(entries.values(), key=lambda e: e["seen"]):
        if entry["expires"] > now:
            users[entry["key"]] = {"name": entry["name"], "role": entry["role"], "status": entry["status"]}
    return users


class MemoryPresence:
    """The embedded default: one process, so a dict is the whole truth."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, dict[str, Any]]] = {}

    async def put(self, customer_id: int, socket: str, entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
        room = self.rooms.setdefault(_room(customer_id), {})
        room[socket] = entry
        return self._online(room)

    async def remove(self, customer_id: int, socket: str) -> dict[str, dict[str, Any]]:
        room = self.rooms.get(_room(customer_id), {})
        room.pop(socket, None)
        return self._online(room)

    async def refresh_many(self, entries: list[tuple[int, str, dict[str, Any]]]) -> None:
        for customer_id, socket, entry in entries:
            self.rooms.setdefault(_room(customer_id), {})[socket] = renewed(entry)

    def _online(self, room: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        now = time.time()
        for socket in [s for s, e in room.items() if e["expires"] <= now]:
            del room[socket]
        return online_users(room, now)


class RedisPresence:
    """Entries in a Redis hash per room; the hash itself expires when nobody refreshes it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def _client(self) -> aioredis.Redis:

        loop = asyncio.get_running_loop()
        if loop not in self.clients:
            self.clients[loop] = aioredis.Redis.from_url(self.url)
        return self.clients[loop]

    async def put(self, customer_id: int, socket: str, entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
        client, room = self._client(), _room(customer_id)
        async with client.pipeline(transaction=True) as pipe:
            pipe.hset(room, socket, json.dumps(entry))
            pipe.expire(room, int(presence_ttl()) + 1)
            pipe.hgetall(room)
            *_, raw = await pipe.execute()
        return await self._online(room, raw)

    async def refresh_many(self, entries: list[tuple[int, str, dict[str, Any]]]) -> None:
        """Extend many sockets' entries in one round trip (the hub's sweep)."""
        ttl = int(presence_ttl()) + 1
        async with self._client().pipeline(transaction=False) as pipe:
            for customer_id, socket, entry in entries:
                pipe.hset(_room(customer_id), socket, json.dumps(renewed(entry)))
                pipe.expire(_room(customer_id), ttl)
            await pipe.execute()

    async def remove(self, customer_id: int, socket: str) -> dict[str, dict[str, Any]]:
        client, room = self._client(), _room(customer_id)
        async with client.pipeline(transaction=True) as pipe:
            pipe.hdel(room, socket)
            pipe.hgetall(room)
            _, raw = await pipe.execute()
        return await self._online(room, raw)

    async def _online(self, room: str, raw: dict[bytes, bytes]) -> dict[str, dict[str, Any]]:
        now = time.time()
        entries = {key.decode(): json.loads(value) for key, value in raw.items()}
        expired = [socket for socket, entry in entries.items() if entry["expires"] <= now]
        if expired:
            await self._client().hdel(room, *expired)
        return online_users(entries, now)


_store: MemoryPresence | RedisPresence | None = None


def store() -> MemoryPresence | RedisPresence:
    global _store
    if _store is None:
        url = getattr(settings, "REDIS_URL", "")
        _store = RedisPresence(url) if url else MemoryPresence()
    return _store


async def close() -> None:
    """Close this process's Redis connections for presence (shutdown)."""
    if isinstance(_store, RedisPresence):
        clients, _store.clients = _store.clients, {}
        for client in clients.values():
            await client.aclose()


def reset_store() -> None:
    """Forget the store (tests switch between layers)."""
    global _store
    _store = None


def entry_for(*, user_key: str, name: str, role: str, status: str) -> dict[str, Any]:
    now = time.time()
    return {
        "key": user_key,
        "name": name,
        "role": role,
        "status": status,
        "seen": now,
        "expires": now + presence_ttl(),
    }


def renewed(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with a fresh time to live (its `seen`, when the status was set, stays)."""
    return {**entry, "expires": time.time() + presence_ttl()}

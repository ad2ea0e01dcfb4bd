"""Presence: who is looking at a customer's portal right now (the seed's `usePresence`).

One room per customer: the customer's own sockets and staff watching that customer. Each socket
that joins has an entry with a time to live, refreshed by its process's hub at every sweep, so
a process that dies without saying goodbye drops out by itself. With Redis the entries live in
one hash per room (shared by every daphne process) beside a version counter; without it, in
this process's memory. Joins and leaves only mark the room; the hub announces each changed room
a few times a second at most (`realtime.hub`), so opening N sockets costs O(N) frames, not N².
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from django.conf import settings
from redis import asyncio as aioredis

from realtime.protocol import PRESENCE_STATUSES

# A user's status across tabs is the most present one: an active tab wins over an idle one.
_RANK = {status: rank for rank, status in enumerate(PRESENCE_STATUSES)}


def presence_ttl() -> float:
    return max(settings.REALTIME_CHECK_INTERVAL * 2.5, 10.0)


def _room(customer_id: int) -> str:
    return f"rt:presence:{customer_id}"


def _version_key(customer_id: int) -> str:
    return f"rt:presence:{customer_id}:version"


def online_users(entries: dict[str, dict[str, Any]], now: float) -> dict[str, dict[str, Any]]:
    """Collapse socket entries to one per user (the seed's `onlineUsers` map), each with the
    most present status of its sockets."""
    users: dict[str, dict[str, Any]] = {}
    for entry in entries.values():
        if entry["expires"] <= now:
            continue
        known = users.get(entry["key"])
        if known is None or _RANK[entry["status"]] < _RANK[known["status"]]:
            user = {"name": entry["name"], "role": entry["role"], "status": entry["status"]}
            if "page" in entry:  # what the most present tab shows
                user["page"] = entry["page"]
            users[entry["key"]] = user
    return users


class MemoryPresence:
    """The embedded default: one process, so a dict is the whole truth."""

    def __init__(self) -> None:
        self.rooms: dict[int, dict[str, dict[str, Any]]] = {}
        self.versions: dict[int, int] = {}

    async def put(self, customer_id: int, socket: str, entry: dict[str, Any]) -> None:
        self.rooms.setdefault(customer_id, {})[socket] = entry
        self.versions[customer_id] = self.versions.get(customer_id, 0) + 1

    async def remove(self, customer_id: int, socket: str) -> None:
        self.rooms.get(customer_id, {}).pop(socket, None)
        self.versions[customer_id] = self.versions.get(customer_id, 0) + 1

    async def refresh_many(self, entries: list[tuple[int, str, dict[str, Any]]]) -> None:
        for customer_id, socket, entry in entries:
            room = self.rooms.get(customer_id, {})
            if socket in room:  # a socket that left meanwhile stays gone
                room[socket] = renewed(entry)

    async def online(self, customer_id: int) -> tuple[dict[str, dict[str, Any]], int]:
        """The room as (users online, version): a higher version is a newer view."""
        now = time.time()
        room = self.rooms.get(customer_id, {})
        for socket in [s for s, e in room.items() if e["expires"] <= now]:
            del room[socket]
        if not room:
            self.rooms.pop(customer_id, None)
        return online_users(room, now), self.versions.get(customer_id, 0)

    async def online_many(self, customer_ids: list[int]) -> dict[int, tuple[dict[str, dict[str, Any]], int]]:
        return {customer_id: await self.online(customer_id) for customer_id in customer_ids}


# KEYS: rooms; ARGV: the time to live, then (socket, entry) per room.
_REFRESH_SCRIPT = """
for i, room in ipairs(KEYS) do
  local socket = ARGV[2 * i]
  if redis.call('HEXISTS', room, socket) == 1 then
    redis.call('HSET', room, socket, ARGV[2 * i + 1])
    redis.call('EXPIRE', room, ARGV[1])
  end
end
"""


class RedisPresence:
    """Entries in a Redis hash per room; the hash itself expires when nobody refreshes it."""

    def __init__(self, url: str, max_connections: int) -> None:
        self.url = url
        self.max_connections = max_connections
        self.clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        if loop not in self.clients:
            # Sized like the channel layer's pool, and waiting for a connection rather than
            # failing: 200 sockets leaving at once exhausted redis-py's default pool of 100.
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url, max_connections=self.max_connections, timeout=10
            )
            self.clients[loop] = aioredis.Redis(connection_pool=pool)
        return self.clients[loop]

    async def put(self, customer_id: int, socket: str, entry: dict[str, Any]) -> None:
        room = _room(customer_id)
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.hset(room, socket, json.dumps(entry))
            pipe.expire(room, int(presence_ttl()) + 1)
            pipe.incr(_version_key(customer_id))
            await pipe.execute()

    async def remove(self, customer_id: int, socket: str) -> None:
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.hdel(_room(customer_id), socket)
            pipe.incr(_version_key(customer_id))
            await pipe.execute()

    async def refresh_many(self, entries: list[tuple[int, str, dict[str, Any]]]) -> None:
        """Extend many sockets' entries in one round trip (the hub's sweep); an entry whose
        socket left meanwhile is not written back."""
        if not entries:
            return
        keys = [_room(customer_id) for customer_id, _socket, _entry in entries]
        args: list[Any] = [int(presence_ttl()) + 1]
        for _customer_id, socket, entry in entries:
            args += [socket, json.dumps(renewed(entry))]
        await self._client().eval(_REFRESH_SCRIPT, len(keys), *keys, *args)

    async def online(self, customer_id: int) -> tuple[dict[str, dict[str, Any]], int]:
        room = _room(customer_id)
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.hgetall(room)
            pipe.get(_version_key(customer_id))
            raw, version = await pipe.execute()
        now = time.time()
        entries = _decoded(raw)
        expired = [socket for socket, entry in entries.items() if entry["expires"] <= now]
        if expired:
            await self._client().hdel(room, *expired)
        return online_users(entries, now), int(version or 0)

    async def online_many(self, customer_ids: list[int]) -> dict[int, tuple[dict[str, dict[str, Any]], int]]:
        """Many rooms as `online` gives one, in one round trip (a staff inbox's snapshot);
        expired entries are left out, and left for `online` or their hash's expiry to remove."""
        async with self._client().pipeline(transaction=False) as pipe:
            for customer_id in customer_ids:
                pipe.hgetall(_room(customer_id))
                pipe.get(_version_key(customer_id))
            replies = await pipe.execute()
        now = time.time()
        rooms = {}
        for n, customer_id in enumerate(customer_ids):
            raw, version = replies[2 * n], replies[2 * n + 1]
            rooms[customer_id] = (online_users(_decoded(raw), now), int(version or 0))
        return rooms


def _decoded(raw: dict[bytes, bytes]) -> dict[str, dict[str, Any]]:
    """A room's hash as Redis returns it: socket -> its entry."""
    return {key.decode(): json.loads(value) for key, value in raw.items()}


_store: MemoryPresence | RedisPresence | None = None


def store() -> MemoryPresence | RedisPresence:
    global _store
    if _store is None:
        url = getattr(settings, "REDIS_URL", "")
        _store = RedisPresence(url, settings.REDIS_MAX_CONNECTIONS) if url else MemoryPresence()
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


def entry_for(*, user_key: str, name: str, role: str, status: str, page: str | None = None) -> dict[str, Any]:
    now = time.time()
    entry = {
        "key": user_key,
        "name": name,
        "role": role,
        "status": status,
        "seen": now,
        "expires": now + presence_ttl(),
    }
    if page is not None:
        entry["page"] = page
    return entry


def renewed(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with a fresh time to live (its `seen`, when the status was set, stays)."""
    return {**entry, "expires": time.time() + presence_ttl()}

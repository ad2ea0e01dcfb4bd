"""`Router`: the process's one link to the channel layer, shared by all its sockets.

A socket has no channel of its own on the layer. The router holds one channel, joins each
customer's group while the process has a socket of that customer (and for a while after the
last one leaves, so reconnect storms do not churn subscriptions), joins the revocations group
once, and hands every message to the local sockets it names, through their inboxes, in the
order it arrived. A socket's handshake therefore costs at most one group join, and usually
none; with the pub/sub layer every such join was a Redis round trip behind one lock.

Every message the project sends over the layer says whom it is for: `customer`, `user`,
`session` or `watchers` (see `realtime.publish`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer

from realtime import customer_presence, presence, publish

logger = logging.getLogger(__name__)

LINGER_SECONDS = 10.0  # how long a customer's group stays joined after its last local socket
PRESENCE_EVERY = 0.25  # a changed room is announced at most this often, however many joined

Recipients = Callable[[dict[str, Any]], Iterable[Any]]


class Router:
    def __init__(self, recipients: Recipients, on_error: Callable[[], None]) -> None:
        self.recipients = recipients  # the local sockets a message is for
        self.on_error = on_error
        self.linger = LINGER_SECONDS
        self.layer: BaseChannelLayer | None = None
        self.channel: str | None = None
        self.members: Counter[int] = Counter()  # customer -> local sockets
        self.joined: set[int] = set()
        self._leaving: dict[int, asyncio.TimerHandle] = {}
        self._task: asyncio.Task[None] | None = None
        self._rooms_changed: set[int] = set()
        self._presence_due: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        layer = get_channel_layer()
        if layer is None:
            raise RuntimeError("The realtime hub needs a channel layer (CHANNEL_LAYERS).")
        self.layer = layer
        self.channel = await layer.new_channel()
        await layer.group_add(publish.REVOCATIONS_GROUP, self.channel)
        self.joined.clear()
        self._task = asyncio.get_running_loop().create_task(self._receive(), name="realtime-hub-router")

    async def stop(self) -> None:
        for handle in self._leaving.values():
            handle.cancel()
        self._leaving.clear()
        if self._presence_due is not None:
            self._presence_due.cancel()
            self._presence_due = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await task

    async def join(self, customer_id: int) -> None:
        """A local socket of this customer is opening: make sure its group reaches us. Raises
        if the layer cannot be reached (the socket then closes with 1011)."""
        self.members[customer_id] += 1
        leaving = self._leaving.pop(customer_id, None)
        if leaving is not None:
            leaving.cancel()
        if customer_id not in self.joined and self.layer is not None and self.channel is not None:
            try:
                await self.layer.group_add(publish.customer_group(customer_id), self.channel)
            except BaseException:
                self.members[customer_id] -= 1
                raise
            self.joined.add(customer_id)

    def leave(self, customer_id: int) -> None:
        self.members[customer_id] -= 1
        if self.members[customer_id] > 0:
            return
        del self.members[customer_id]
        loop = asyncio.get_running_loop()
        self._leaving[customer_id] = loop.call_later(
            self.linger, lambda: loop.create_task(self._discard(customer_id))
        )

    async def _discard(self, customer_id: int) -> None:
        self._leaving.pop(customer_id, None)
        if self.members[customer_id] or customer_id not in self.joined:
            return  # someone came back meanwhile
        self.joined.discard(customer_id)
        if self.layer is not None and self.channel is not None:
            try:
                await self.layer.group_discard(publish.customer_group(customer_id), self.channel)
            except Exception:
                logger.warning("realtime: leaving customer %s's group failed", customer_id, exc_info=True)

    async def _receive(self) -> None:
        assert self.layer is not None and self.channel is not None  # noqa: S101  (started)
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.on_error()
                logger.warning("realtime: the channel layer is unavailable; retrying", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            for socket in self.recipients(message):
                socket.post(message)

    # --- presence -------------------------------------------------------------------------------

    def presence_changed(self, customer_id: int) -> None:
        """A socket joined, left or changed status: announce the room soon, once for all."""
        self._rooms_changed.add(customer_id)
        if self._presence_due is None:
            loop = asyncio.get_running_loop()
            self._presence_due = loop.call_later(
                PRESENCE_EVERY, lambda: loop.create_task(self.announce_rooms(), name="realtime-hub-rooms")
            )

    async def announce_rooms(self) -> None:
        self._presence_due = None
        rooms, self._rooms_changed = self._rooms_changed, set()
        for customer_id in rooms:
            try:
                online, version = await presence.store().online(customer_id)
                if self.layer is not None:
                    await self.layer.group_send(
                        publish.customer_group(customer_id),
                        {
                            "type": "realtime.presence",
                            "customer": customer_id,
                            "online": online,
                            "version": version,
                        },
                    )
                    # The staff inbox's "online · on Messages" beside this customer's items.
                    await customer_presence.announce(self.layer, customer_id, online, version)
            except Exception:
                self.on_error()
                logger.warning("realtime: announcing room %s failed", customer_id, exc_info=True)

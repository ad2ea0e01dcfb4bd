"""The floor: a bare Channels consumer per customer group, served by daphne.

`/ws/floor/<customer>/` joins the group `floor.<customer>`, says `subscribed`, and forwards
every message the writer (bench/writer.py) sends to the group with `group_send` as it came. No
database, no auth, no ordering: the least any Channels app can do per frame. It serves two
subjects: `floor`, whose writer only sends, and `floor-save`, whose writer first saves the job
as this project's writer does (bench/subjects.py).
"""

from __future__ import annotations

import os

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.floor_settings"

import django

django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench.protocols import floor_group  # noqa: E402


class FloorConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.group = floor_group(int(self.scope["url_route"]["kwargs"]["customer"]))
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send(text_data='{"type": "subscribed"}')

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def bench_change(self, message: dict) -> None:
        await self.send(text_data=message["text"])


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/floor/<int:customer>/", FloorConsumer.as_asgi())])}
)

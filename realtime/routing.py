from __future__ import annotations

from django.urls import path, re_path

from realtime.consumers import PortalConsumer, UnknownPathConsumer

websocket_urlpatterns = [
    path("ws/realtime/", PortalConsumer.as_asgi()),
    # Anything else: accepted and closed with 4404 (without it, Channels answers HTTP 500).
    re_path(r"", UnknownPathConsumer.as_asgi()),
]

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from realtime.consumers import PortalConsumer, UnknownPathConsumer

# Channels' URLRouter takes ASGI applications where Django's path() expects views.
websocket_urlpatterns: list[URLPattern] = [
    path("ws/realtime/", PortalConsumer.as_asgi()),  # type: ignore[arg-type]
    # Anything else: accepted and closed with 4404 (without it, Channels answers HTTP 500).
    re_path(r"", UnknownPathConsumer.as_asgi()),  # type: ignore[arg-type]
]

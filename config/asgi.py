"""ASGI entry point: HTTP to Django, WebSockets through the origin check to the realtime
consumer (which reads the session cookie itself: realtime.handshake), and the realtime process
lifecycle around both."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Set up Django before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from crm.live.routing import staff_urlpatterns  # noqa: E402
from realtime.daphne_patches import widen_listen_backlog  # noqa: E402
from realtime.lifecycle import with_lifecycle  # noqa: E402
from realtime.origin import SameOriginValidator  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

widen_listen_backlog()  # daphne listens after importing this: room for a reconnect storm

# with_lifecycle: an orderly shutdown on SIGTERM under daphne (sockets closed with 1012 first).
application = with_lifecycle(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": SameOriginValidator(
                # types-channels asks for its own URLPattern subclass, which `path()` never returns.
                URLRouter([*staff_urlpatterns, *websocket_urlpatterns])  # type: ignore[list-item]
            ),
        }
    )
)

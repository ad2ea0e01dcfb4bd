"""The peer's ASGI application: config.asgi's stack, with the model-observer consumer's route.

`/ws/peer/` is `bench.dcrf_consumer.JobPeerConsumer` behind the same origin check and session
auth as the project's `/ws/realtime/`.
"""

from __future__ import annotations

import os

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.dcrf_settings"

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from bench.dcrf_consumer import JobPeerConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([path("ws/peer/", JobPeerConsumer.as_asgi())]))
        ),
    }
)

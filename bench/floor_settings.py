"""Settings of the floor (bench/floor_asgi.py): Channels and the project's channel layer, nothing else.

No database, no sessions, no auth: the floor measures what Channels, daphne and the layer cost
on their own. The layer is the one `config.settings` builds from REDIS_URL, REALTIME_LAYER and
REALTIME_LAYER_PREFIX, so the floor and the project publish through the same thing.
"""

from __future__ import annotations

from config.settings import CHANNEL_LAYERS, SECRET_KEY  # noqa: F401

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
DATABASES: dict = {}
USE_TZ = True
ASGI_APPLICATION = "bench.floor_asgi.application"

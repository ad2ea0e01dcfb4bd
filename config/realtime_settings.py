"""The channel layer and the realtime engine's settings, read from the environment (README.md).

`config.settings` takes all of them; it loads `.env` before importing this module.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

# Channel layer: Redis when REDIS_URL is set, else the in-memory layer (one process only).
REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_MAX_CONNECTIONS = int(os.environ.get("REDIS_MAX_CONNECTIONS", "5000"))
REALTIME_LAYER = os.environ.get("REALTIME_LAYER", "pubsub")
# Group and channel names are global to a Redis server (pub/sub ignores the database number):
# deployments or test runs sharing one Redis keep apart with their own prefix.
REALTIME_LAYER_PREFIX = os.environ.get("REALTIME_LAYER_PREFIX", "asgi")
if REDIS_URL:
    # redis-py's default pool (100 connections) ran out at 100 concurrent sockets with the core
    # layer. The pub/sub layer takes the same host options; it serialises its commands per shard,
    # so there the pool is a cap rather than a need.
    redis_host = {
        "address": REDIS_URL,
        "max_connections": REDIS_MAX_CONNECTIONS,
    }
    if REALTIME_LAYER == "pubsub":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [redis_host], "prefix": REALTIME_LAYER_PREFIX},
            }
        }
    elif REALTIME_LAYER == "core":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [redis_host],
                    "prefix": REALTIME_LAYER_PREFIX,
                    "capacity": 1000,
                    "expiry": 30,
                },
            }
        }
    else:
        raise ImproperlyConfigured("REALTIME_LAYER must be 'pubsub' or 'core'.")
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Realtime sync engine.
REALTIME_RETENTION = int(os.environ.get("REALTIME_RETENTION_SECONDS", str(7 * 24 * 3600)))

# The hub's access sweep and presence refresh (all of a process's sockets at once).
REALTIME_CHECK_INTERVAL = float(os.environ.get("REALTIME_CHECK_INTERVAL_SECONDS", "30"))
# Inbound limits per socket (realtime.limits): sustained frames a second and the burst allowed;
# over it an error frame, then a close with 1008. Typing frames relayed a second, and sockets
# one user may hold on one process (more are closed with 4429).
REALTIME_FRAMES_PER_SECOND = float(os.environ.get("REALTIME_FRAMES_PER_SECOND", "10"))
REALTIME_FRAME_BURST = int(os.environ.get("REALTIME_FRAME_BURST", "30"))
REALTIME_TYPING_PER_SECOND = float(os.environ.get("REALTIME_TYPING_PER_SECOND", "2"))
REALTIME_MAX_SOCKETS_PER_USER = int(os.environ.get("REALTIME_MAX_SOCKETS_PER_USER", "20"))
# A client that stops reading is dropped once its socket has been full this long, or this many
# bytes wait for it in daphne (realtime.daphne_patches): its memory stays bounded.
REALTIME_SLOW_READER_SECONDS = float(os.environ.get("REALTIME_SLOW_READER_SECONDS", "10"))
REALTIME_SLOW_READER_BYTES = int(os.environ.get("REALTIME_SLOW_READER_BYTES", str(1024 * 1024)))
# Connections the kernel queues for daphne to accept (realtime.daphne_patches): Twisted's 50
# overflowed in a reconnect storm, and the clients left out waited 1-3 s for TCP to retry.
REALTIME_LISTEN_BACKLOG = int(os.environ.get("REALTIME_LISTEN_BACKLOG", "2048"))
# The hub's outbox tailer: gap repair with Redis; with the in-memory layer, how changes saved by
# other processes (commands, shells) arrive, hence the shorter default there.
REALTIME_TAIL_INTERVAL = float(
    os.environ.get("REALTIME_TAIL_INTERVAL_SECONDS", "1.0" if REDIS_URL else "0.25")
)

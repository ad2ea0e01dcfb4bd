"""Settings of the djangochannelsrestframework peer: the project's, served by bench/dcrf_asgi.py.

Same database, models, sessions and channel layer as the project; only the ASGI application
differs (it adds the peer's route). djangochannelsrestframework comes from the `bench` extra.
"""

from __future__ import annotations

from config.settings import *  # noqa: F403

ASGI_APPLICATION = "bench.dcrf_asgi.application"

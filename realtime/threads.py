"""Database work for async code, off the event loop."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from channels.db import database_sync_to_async
from django.db import close_old_connections

P = ParamSpec("P")
R = TypeVar("R")


def read_in_thread(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run a read on the executor's worker threads, beside other reads, instead of queueing on
    the one thread database_sync_to_async uses by default.

    The function closes its own connection when done (as the connection settings ask: back to
    the pool with PostgreSQL's default). channels closes in the worker outside the call's
    context, where asgiref's context-local storage can hold another connection object, and a
    pooled connection whose worker thread later ends is never handed back.
    """

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return database_sync_to_async(run, thread_sensitive=False)

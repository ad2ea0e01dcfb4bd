"""At most a few writes per customer at a time in each process.

A customer whose rows are locked (a stuck transaction, a long staff edit) would otherwise have
every one of their piled-up requests wait on the lock while holding a pooled connection, and
the pool would be empty for everyone else. Over the limit, a write answers 503 with Retry-After
at once (config.middleware); reads never wait here.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpResponse

from portal.permissions import PortalRequest

_lock = threading.Lock()
_writing: Counter[int] = Counter()


class CustomerBusy(Exception):
    pass


@contextmanager
def write_slot(customer_id: int) -> Iterator[None]:
    with _lock:
        if _writing[customer_id] >= settings.PORTAL_WRITES_PER_CUSTOMER:
            raise CustomerBusy
        _writing[customer_id] += 1
    try:
        yield
    finally:
        with _lock:
            _writing[customer_id] -= 1
            if not _writing[customer_id]:
                del _writing[customer_id]


def one_of_few_writes(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For customer actions (under `customer_required`): take a write slot, or raise
    CustomerBusy, which `config.middleware` answers with 503 and Retry-After."""

    @wraps(view)
    def wrapper(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with write_slot(request.customer_id):
            return view(request, *args, **kwargs)

    return wrapper

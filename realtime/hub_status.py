"""Where each process's hub reports how it is doing, for `manage.py realtime_status`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from realtime.models import HubStatus


@dataclass
class HubStats:
    started_at: float = 0.0
    repaired: int = 0  # events the tailer handed to sockets that still lacked them
    last_tail_at: float = 0.0
    tail_lag: float = 0.0  # seconds between an event's record time and the tailer handing it on
    last_sweep_at: float = 0.0
    swept: int = 0
    closed_by_sweep: int = 0
    errors: int = 0


def save(process: str, started_at: float, report: dict[str, Any]) -> None:
    HubStatus.objects.update_or_create(
        process=process,
        defaults={
            "started_at": dt.datetime.fromtimestamp(started_at, tz=dt.UTC),
            "updated_at": timezone.now(),
            "report": report,
        },
    )


def forget(process: str) -> None:
    """The process is shutting down in order: its hub no longer reports."""
    HubStatus.objects.filter(process=process).delete()

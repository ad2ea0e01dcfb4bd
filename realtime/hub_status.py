"""Where each process's hub reports how it is doing, for `manage.py realtime_status`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from realtime.models import HubStatus


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

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from realtime.retention import prune


class Command(BaseCommand):
    help = "Delete outbox events older than the retention window (REALTIME_RETENTION_SECONDS)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--retention-seconds", type=int, default=None, help="Override the configured window."
        )

    def handle(self, *args: Any, retention_seconds: int | None = None, **options: Any) -> None:
        removed = prune(retention_seconds=retention_seconds)
        self.stdout.write(f"Pruned {removed} outbox event(s).")

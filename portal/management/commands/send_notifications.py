"""Send the digest emails that are due (`portal.digests`): once, or in a loop.

Safe from cron or as a service on any number of hosts at once: each customer's digest is
claimed in PostgreSQL (`SELECT … FOR UPDATE SKIP LOCKED`), so no change is emailed twice.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from portal import digests

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Email customers who are away a digest of what changed (one per quiet period)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running, one round every --interval.")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="Seconds between rounds with --loop."
        )

    def handle(self, *args: Any, loop: bool = False, interval: float = 60.0, **options: Any) -> None:
        if interval <= 0:
            raise CommandError("--interval must be more than 0 seconds")
        while True:
            if not loop:
                self.stdout.write(f"{digests.send_due()} digest email(s) sent")
                return
            try:
                self.stdout.write(f"{digests.send_due()} digest email(s) sent")
            except Exception:
                # A round that fails (database away) must not end the service: try again next round.
                logger.exception("digest round failed")
            close_old_connections()  # a long-lived loop must not keep a broken connection
            time.sleep(interval)

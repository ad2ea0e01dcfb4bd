from django.core.management.base import BaseCommand

from realtime.retention import prune


class Command(BaseCommand):
    help = "Delete outbox events older than the retention window (REALTIME_RETENTION_SECONDS)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--retention-seconds", type=int, default=None, help="Override the configured window."
        )

    def handle(self, *args, retention_seconds=None, **options):
        removed = prune(retention_seconds=retention_seconds)
        self.stdout.write(f"Pruned {removed} outbox event(s).")

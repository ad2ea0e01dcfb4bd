from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from crm import services


class Command(BaseCommand):
    help = "Move every sent invoice past its due date to overdue (run daily, e.g. from cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.mark_overdue_invoices()
        self.stdout.write(f"Marked {count} invoice(s) overdue.")

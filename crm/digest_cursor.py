"""How far each customer's email digests have got (a model of the `crm` app, see crm/models.py)."""

from __future__ import annotations

from django.db import models


class DigestCursor(models.Model):
    """The highest change `seq` already handled for one customer's digest emails.

    `manage.py send_notifications` locks this row (`SELECT … FOR UPDATE SKIP LOCKED`), sends,
    and moves `emailed_through` in the same transaction, so senders on any number of hosts never
    handle one customer at the same time, and a change is emailed at most once.
    """

    customer = models.OneToOneField("crm.Customer", on_delete=models.CASCADE, primary_key=True)
    emailed_through = models.BigIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"digests of customer {self.customer_id} through seq {self.emailed_through}"

"""Reads of the staff inbox that the page, the header count and the live fragment share."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import QuerySet

from crm import staff_stream
from crm.staff_models import InboxItem

PAGE_SIZE = 100


def items(*, handled: bool = False) -> QuerySet[InboxItem]:
    rows = InboxItem.objects.select_related("customer", "request__job", "message", "handled_by")
    return rows.filter(handled_at__isnull=not handled).order_by("-created_at", "-id")


def open_count_at_seq() -> tuple[int, int]:
    """(open items, staff seq) from one snapshot: the live count starts from here."""
    outer = connection.in_atomic_block
    if not outer:
        connection.cursor().close()  # connect first: SET TRANSACTION must be the first statement
    with transaction.atomic():
        if connection.vendor == "postgresql" and not outer:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        seq = staff_stream.current_seq()
        return InboxItem.objects.filter(handled_at__isnull=True).count(), seq

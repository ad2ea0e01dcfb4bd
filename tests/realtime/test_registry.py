"""The registry says twice which rows a customer sees (a Python rule for saves, a SQL filter for
snapshots); the two must agree on every kind of row, or a snapshot and the stream disagree."""

from __future__ import annotations

import pytest

from crm import services
from realtime import registry

pytestmark = pytest.mark.django_db


def test_visible_and_visible_filter_agree_on_every_row(make_customer, make_user, tomorrow_window):
    alice = make_customer("Alice Example", login="alice")
    staff = make_user("sam", staff=True)
    start, end = tomorrow_window()
    job = services.schedule_job(customer=alice, service_type="Carpet cleaning", start=start, end=end)
    services.complete_job(job=job)
    services.create_invoice(customer=alice, total="10.00")  # a draft
    for status_change in (services.send_invoice, services.mark_invoice_paid, services.void_invoice):
        invoice = services.create_invoice(customer=alice, total="20.00", job=job)
        services.send_invoice(invoice=invoice)
        if status_change is not services.send_invoice:
            status_change(invoice=invoice)
    services.post_message(customer=alice, body="kept", author=staff)
    deleted = services.post_message(customer=alice, body="deleted", author=staff)
    services.delete_message(message=deleted)
    services.redeem_points(customer=alice, points=10)
    upcoming = services.schedule_job(customer=alice, service_type="Rugs", start=start, end=end)
    services.request_change(customer=alice, job=upcoming, kind="cancel")

    for entry in registry.entries():
        rows = list(entry.model._default_manager.all())
        assert rows, f"no {entry.topic} rows to compare"
        shown = set(entry.visible_rows(alice.pk).values_list("pk", flat=True))
        assert {row.pk for row in rows if entry.visible(row) and entry.owner_of(row) == alice.pk} == shown
        if entry.topic in ("invoices", "messages"):
            assert len(shown) < len(rows), f"{entry.topic}: the hidden rows were not exercised"

"""The invoice actions of crm.services, and each way they refuse (one test per DomainError code)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm import services
from crm.models import Invoice
from tests.crm.refusals import refuses

pytestmark = pytest.mark.django_db


# --- invoices -------------------------------------------------------------------------------------


def test_create_invoice_numbers_drafts_in_sequence(customer, job):
    first = services.create_invoice(customer=customer, total="99.999", job=job)
    second = services.create_invoice(customer=customer, total=Decimal("10"))
    year = timezone.localdate().year
    assert (first.number, second.number) == (f"INV-{year}-00001", f"INV-{year}-00002")
    assert (first.status, first.total, first.job) == ("draft", Decimal("100.00"), job)
    assert services.create_invoice(customer=customer, total=0, number=" Q-7 ").number == "Q-7"


def test_create_invoice_refusals(customer, make_customer, make_job):
    bobs_job = make_job(customer=make_customer("Bob Example"))
    refuses("wrong_customer", services.create_invoice, customer=customer, total=1, job=bobs_job)
    services.create_invoice(customer=customer, total=1, number="Q-1")
    refuses("duplicate_number", services.create_invoice, customer=customer, total=1, number="Q-1")
    refuses("bad_amount", services.create_invoice, customer=customer, total="lots")
    refuses("negative_total", services.create_invoice, customer=customer, total="-0.01")
    refuses("too_long", services.create_invoice, customer=customer, total=1, number="Q" * 33)
    assert Invoice.objects.count() == 1


@pytest.mark.parametrize(
    ("total", "code"),
    [
        ("NaN", "bad_amount"),
        ("-Infinity", "bad_amount"),
        (True, "bad_amount"),
        (None, "bad_amount"),
        ("1e30", "total_too_large"),
        (Decimal("100000000"), "total_too_large"),
        ("99999999.995", "total_too_large"),  # rounds up past the column
    ],
)
def test_invoice_totals_the_column_cannot_hold_are_refused(customer, total, code):
    refuses(code, services.create_invoice, customer=customer, total=total)
    assert not Invoice.objects.exists()


def test_the_largest_total_and_zero(customer):
    assert services.create_invoice(customer=customer, total="99999999.99").total == Decimal("99999999.99")
    assert str(services.create_invoice(customer=customer, total="-0").total) == "0.00"


def test_invoice_numbers_count_on_past_99999_and_ignore_hand_typed_ones(customer):
    year = timezone.localdate().year
    services.create_invoice(customer=customer, total=1, number=f"INV-{year}-99999")
    services.create_invoice(customer=customer, total=1, number=f"INV-{year}-ZZZ")
    assert services.create_invoice(customer=customer, total=1).number == f"INV-{year}-100000"
    assert services.create_invoice(customer=customer, total=1).number == f"INV-{year}-100001"


def test_a_number_taken_in_the_meantime_is_skipped(customer, monkeypatch):
    """What a concurrent writer does to a number: taken between choosing it and inserting."""
    from crm.services import invoices

    year = timezone.localdate().year
    taken = services.create_invoice(customer=customer, total=1).number
    choices = iter([taken])  # the first choice is stale, as if another transaction just took it
    real = invoices._next_invoice_number
    monkeypatch.setattr(invoices, "_next_invoice_number", lambda: next(choices, None) or real())
    assert services.create_invoice(customer=customer, total=2).number == f"INV-{year}-00002"
    monkeypatch.setattr(invoices, "_next_invoice_number", lambda: taken)
    refuses("number_busy", services.create_invoice, customer=customer, total=3)
    assert Invoice.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_invoices_get_different_numbers(require_postgres, make_customer):
    """Two transactions pick the same next number; the second insert waits for the first to
    commit, is refused by the unique index and takes the following number."""
    import threading

    from django.db import close_old_connections, connection, transaction

    alice, bob = make_customer("Alice Example"), make_customer("Bob Example")
    first_inserted, results = threading.Event(), {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = services.create_invoice(customer=alice, total=1).number
                first_inserted.set()
                wait_until_blocked_on_a_lock()
        except AssertionError as error:
            results["error"] = error
        finally:
            first_inserted.set()
            close_old_connections()

    def wait_until_blocked_on_a_lock() -> None:
        with connection.cursor() as cursor:
            for _ in range(500):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    return
                threading.Event().wait(0.01)
        raise AssertionError("the second writer never waited for the first")

    thread = threading.Thread(target=first)
    thread.start()
    first_inserted.wait(10)
    results["second"] = services.create_invoice(customer=bob, total=2).number
    thread.join(10)
    assert "error" not in results, results["error"]
    year = timezone.localdate().year
    assert sorted(results.values()) == [f"INV-{year}-00001", f"INV-{year}-00002"]


def test_update_invoice(make_invoice, job):
    draft = make_invoice(total="10.00")
    updated = services.update_invoice(invoice=draft, total="12.5", number=" Q-1 ", job=job)
    assert (updated.total, updated.number, updated.job) == (Decimal("12.50"), "Q-1", job)
    sent = services.send_invoice(invoice=updated)
    due = timezone.localdate() + dt.timedelta(days=30)
    assert services.update_invoice(invoice=sent, total="11", due_date=due, job=None).due_date == due


def test_update_invoice_refusals(make_invoice, make_customer, make_job, past_due):
    bobs_job = make_job(customer=make_customer("Bob Example"))
    draft, paid, void = make_invoice(), make_invoice("paid"), make_invoice("void")
    refuses("unknown_field", services.update_invoice, invoice=draft, customer=bobs_job.customer)
    refuses("unknown_field", services.update_invoice, invoice=draft, status="paid")
    refuses("wrong_customer", services.update_invoice, invoice=draft, job=bobs_job)
    refuses("bad_amount", services.update_invoice, invoice=draft, total="NaN")
    refuses("duplicate_number", services.update_invoice, invoice=draft, number=paid.number)
    refuses("missing_number", services.update_invoice, invoice=draft, number=" ")
    refuses("too_long", services.update_invoice, invoice=draft, number="Q" * 33)
    refuses("not_draft", services.update_invoice, invoice=paid, number="Q-2")
    refuses("due_in_past", services.update_invoice, invoice=draft, due_date=dt.date(2000, 1, 1))
    for closed in (paid, void):
        refuses("invoice_closed", services.update_invoice, invoice=closed, total="1")
        refuses("invoice_closed", services.update_invoice, invoice=closed, due_date=timezone.localdate())
    overdue = services.mark_invoice_overdue(invoice=past_due)
    refuses("invoice_closed", services.update_invoice, invoice=overdue, due_date=timezone.localdate())
    # Unchanged values are not changes: a paid invoice's form saved as it is goes through.
    assert services.update_invoice(invoice=paid, total=paid.total, number=paid.number) == paid


def test_send_invoice(make_invoice):
    invoice = services.send_invoice(invoice=make_invoice())
    assert invoice.status == "sent"
    assert invoice.sent_at is not None
    assert invoice.due_date == timezone.localdate() + dt.timedelta(days=14)
    refuses("not_draft", services.send_invoice, invoice=invoice)
    due = timezone.localdate() + dt.timedelta(days=3)
    assert services.send_invoice(invoice=make_invoice(), due_date=due).due_date == due


def test_send_invoice_refuses_a_past_due_date(make_invoice):
    draft = make_invoice()
    refuses(
        "due_in_past",
        services.send_invoice,
        invoice=draft,
        due_date=timezone.localdate() - dt.timedelta(days=1),
    )
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_mark_invoice_paid(make_invoice):
    sent = make_invoice("sent")
    paid_at = sent.sent_at + dt.timedelta(microseconds=1)
    invoice = services.mark_invoice_paid(invoice=sent, paid_at=paid_at)
    assert (invoice.status, invoice.paid_at) == ("paid", paid_at)
    assert services.mark_invoice_paid(invoice=make_invoice("overdue")).status == "paid"
    for status in ("draft", "paid", "void"):
        refuses("not_payable", services.mark_invoice_paid, invoice=make_invoice(status))


def test_mark_invoice_overdue(make_invoice, past_due):
    assert services.mark_invoice_overdue(invoice=past_due).status == "overdue"
    refuses("not_sent", services.mark_invoice_overdue, invoice=past_due)
    refuses("not_sent", services.mark_invoice_overdue, invoice=make_invoice("draft"))
    refuses("not_due", services.mark_invoice_overdue, invoice=make_invoice("sent"))


def test_payment_time_must_be_aware_past_and_after_sending(make_invoice):
    sent = make_invoice("sent")
    now = timezone.now()
    refuses("naive_time", services.mark_invoice_paid, invoice=sent, paid_at=timezone.make_naive(now))
    refuses("in_future", services.mark_invoice_paid, invoice=sent, paid_at=now + dt.timedelta(minutes=5))
    refuses(
        "paid_before_sent",
        services.mark_invoice_paid,
        invoice=sent,
        paid_at=sent.sent_at - dt.timedelta(days=1),
    )
    refuses("bad_time", services.mark_invoice_paid, invoice=sent, paid_at=timezone.localdate())
    sent.refresh_from_db()
    assert sent.status == "sent"


def test_mark_overdue_invoices_moves_only_sent_invoices_past_due(make_invoice, past_due):
    current = make_invoice("sent")
    draft = make_invoice()
    assert services.mark_overdue_invoices() == 1
    assert [
        i.status for i in Invoice.objects.filter(pk__in=[past_due.pk, current.pk, draft.pk]).order_by("pk")
    ] == [
        "overdue",
        "sent",
        "draft",
    ]
    assert services.mark_overdue_invoices() == 0
    assert services.mark_overdue_invoices(today=current.due_date + dt.timedelta(days=1)) == 1


def test_void_invoice(make_invoice):
    for status in ("draft", "sent", "overdue"):
        assert services.void_invoice(invoice=make_invoice(status)).status == "void"
    for status in ("paid", "void"):
        refuses("not_voidable", services.void_invoice, invoice=make_invoice(status))

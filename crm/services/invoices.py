"""Invoices: drafts, sending, payment, overdue and void."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils import timezone

from crm.models import Customer, Invoice, Job
from crm.services.errors import DomainError
from crm.services.inputs import amount, clean_text, past_moment
from crm.services.partial_save import differing_fields, save_changes
from realtime.bulk import sync_update
from realtime.capture import lock

CLOSED = (Invoice.Status.PAID, Invoice.Status.VOID)
EDITABLE_FIELDS = ("job", "number", "total", "due_date")
# How many times `create_invoice` takes a fresh number when a concurrent writer took its own.
NUMBER_ATTEMPTS = 5


def _next_invoice_number() -> str:
    """The year's next free `INV-YYYY-NNNNN` (hand-typed numbers in other shapes are ignored)."""
    year = timezone.localdate().year
    prefix = f"INV-{year}-"
    last = (
        Invoice.objects.filter(number__regex=rf"^{prefix}[0-9]+$")
        .order_by(Length("number").desc(), "-number")  # numeric order, also past 99999
        .values_list("number", flat=True)
        .first()
    )
    serial = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{serial:05d}"


def _invoice_number(number: str) -> str:
    return clean_text(number, Invoice, "number", label="invoice number")


def _check_job(job: Job | None, customer_id: int) -> None:
    if job is not None and job.customer_id != customer_id:
        raise DomainError("That job belongs to another customer.", code="wrong_customer")


def _duplicate(number: str) -> DomainError:
    return DomainError(f"Invoice number {number} is taken.", code="duplicate_number")


@transaction.atomic
def create_invoice(*, customer: Customer, total: Any, job: Job | None = None, number: str = "") -> Invoice:
    """Create a draft invoice; customers see it once it is sent.

    Without a `number` it takes the year's next one. Two concurrent creations may pick the same
    number: the unique index refuses the second insert, which then takes the next number.
    """
    _check_job(job, customer.pk)
    total = amount(total, Invoice, "total")
    chosen = _invoice_number(number)
    for _attempt in range(NUMBER_ATTEMPTS):
        number = chosen or _next_invoice_number()
        if chosen and Invoice.objects.filter(number=number).exists():
            raise _duplicate(number)
        try:
            with transaction.atomic():
                return Invoice.objects.create(customer=customer, job=job, number=number, total=total)
        except IntegrityError:
            if not Invoice.objects.filter(number=number).exists():
                raise
            if chosen:
                raise _duplicate(number) from None
    raise DomainError("Could not find a free invoice number; try again.", code="number_busy")


@transaction.atomic
def update_invoice(*, invoice: Invoice, **changes: Any) -> Invoice:
    """Edit an invoice's `job`, `number`, `total` or `due_date`; its customer never changes.

    The job must be the same customer's. The number can change only on a draft (the customer has
    seen it once it is sent). A paid or void invoice is closed: its total and due date stay as
    they were. A new due date may not be in the past, and an overdue invoice keeps its own.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            f"These invoice fields cannot be edited: {', '.join(sorted(unknown))}.", code="unknown_field"
        )
    invoice = lock(Invoice, invoice.pk)
    status = invoice.get_status_display().lower()
    cleaned: dict[str, Any] = {}
    if "job" in changes:
        _check_job(changes["job"], invoice.customer_id)
        cleaned["job"] = changes["job"]
    if "number" in changes:
        cleaned["number"] = _invoice_number(changes["number"])
        if not cleaned["number"]:
            raise DomainError("An invoice needs a number.", code="missing_number")
    if "total" in changes:
        cleaned["total"] = amount(changes["total"], Invoice, "total")
    if "due_date" in changes:
        cleaned["due_date"] = changes["due_date"]
    changed = differing_fields(invoice, cleaned)
    if "number" in changed:
        if invoice.status != Invoice.Status.DRAFT:
            raise DomainError(f"Only a draft can be renumbered; this one is {status}.", code="not_draft")
        if Invoice.objects.filter(number=cleaned["number"]).exclude(pk=invoice.pk).exists():
            raise _duplicate(cleaned["number"])
    if "total" in changed and invoice.status in CLOSED:
        raise DomainError(f"An invoice that is {status} keeps its total.", code="invoice_closed")
    if "due_date" in changed:
        if invoice.status in (*CLOSED, Invoice.Status.OVERDUE):
            raise DomainError(f"An invoice that is {status} keeps its due date.", code="invoice_closed")
        if cleaned["due_date"] is not None and cleaned["due_date"] < timezone.localdate():
            raise DomainError("The due date is in the past.", code="due_in_past")
    save_changes(invoice, cleaned, changed)
    return invoice


@transaction.atomic
def send_invoice(*, invoice: Invoice, due_date: dt.date | None = None) -> Invoice:
    invoice = lock(Invoice, invoice.pk)
    if invoice.status != Invoice.Status.DRAFT:
        raise DomainError(f"Only a draft can be sent; this one is {invoice.status}.", code="not_draft")
    today = timezone.localdate()
    due_date = due_date or today + dt.timedelta(days=14)
    if due_date < today:
        raise DomainError("The due date is in the past.", code="due_in_past")
    invoice.status = Invoice.Status.SENT
    invoice.sent_at = timezone.now()
    invoice.due_date = due_date
    invoice.save(update_fields=["status", "sent_at", "due_date", "updated_at"])
    return invoice


@transaction.atomic
def mark_invoice_paid(*, invoice: Invoice, paid_at: dt.datetime | None = None) -> Invoice:
    """Record payment of a sent or overdue invoice, now or at `paid_at` (aware, not in the
    future, not before the invoice was sent)."""
    invoice = lock(Invoice, invoice.pk)
    if invoice.status not in (Invoice.Status.SENT, Invoice.Status.OVERDUE):
        raise DomainError(
            f"Only a sent or overdue invoice can be paid; this one is {invoice.status}.",
            code="not_payable",
        )
    paid_at = timezone.now() if paid_at is None else past_moment(paid_at, what="payment time")
    if invoice.sent_at is not None and paid_at < invoice.sent_at:
        raise DomainError("An invoice cannot be paid before it was sent.", code="paid_before_sent")
    invoice.status = Invoice.Status.PAID
    invoice.paid_at = paid_at
    invoice.save(update_fields=["status", "paid_at", "updated_at"])
    return invoice


@transaction.atomic
def mark_invoice_overdue(*, invoice: Invoice, today: dt.date | None = None) -> Invoice:
    invoice = lock(Invoice, invoice.pk)
    today = today or timezone.localdate()
    if invoice.status != Invoice.Status.SENT:
        raise DomainError(
            f"Only a sent invoice can be overdue; this one is {invoice.status}.", code="not_sent"
        )
    if invoice.due_date is None or invoice.due_date >= today:
        raise DomainError("This invoice is not past its due date.", code="not_due")
    invoice.status = Invoice.Status.OVERDUE
    invoice.save(update_fields=["status", "updated_at"])
    return invoice


def mark_overdue_invoices(*, today: dt.date | None = None) -> int:
    """Move every sent invoice past its due date to overdue, in one bulk update that syncs."""
    today = today or timezone.localdate()
    overdue = Invoice.objects.filter(status=Invoice.Status.SENT, due_date__lt=today)
    return sync_update(overdue, status=Invoice.Status.OVERDUE, updated_at=timezone.now())


@transaction.atomic
def void_invoice(*, invoice: Invoice) -> Invoice:
    invoice = lock(Invoice, invoice.pk)
    if invoice.status in CLOSED:
        raise DomainError(f"A {invoice.status} invoice cannot be voided.", code="not_voidable")
    invoice.status = Invoice.Status.VOID
    invoice.save(update_fields=["status", "updated_at"])
    return invoice

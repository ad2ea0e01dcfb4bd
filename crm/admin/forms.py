"""Admin forms whose save is a sequence of domain actions (`crm.services`).

Each form spells its save out in `apply`, which `ServiceFormAdmin` runs once, in the admin's
transaction. A refusal rolls the whole save back and becomes a form error next to the fields
rather than a server error after "Save": status fields stay editable, but a transition the
services refuse cannot be saved. A change form saves only what the staff member changed, and
refuses a field someone else changed since the form was drawn (`crm.admin.concurrency`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from crm import services
from crm.admin.concurrency import SeenValuesForm, StaleEdit
from crm.admin.preferences import PreferencesWidget
from crm.models import Customer, Invoice, Job, LoyaltyTransaction, Message, User
from crm.services import DomainError
from crm.services.invoices import EDITABLE_FIELDS as INVOICE_FIELDS
from crm.services.jobs import DETAIL_FIELDS as JOB_DETAIL_FIELDS

_M = TypeVar("_M", bound=models.Model)


class ServiceForm(SeenValuesForm[_M]):
    """A model form whose save is `apply`.

    `apply` takes the row from `locked_row()`, reads `cleaned_data` and `changed_data` (never
    `self.instance`'s fields, which the form overwrites after `clean`) and returns the saved row.
    When the services refused a save, the admin shows the posted form again with `refusal` set,
    and the form reports it as its error (a stale edit on the fields it names).
    """

    refusal: DomainError | None = None

    def apply(self, *, user: User) -> _M:
        raise NotImplementedError

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        stale = self.stale_fields() if self.instance.pk is not None else {}
        if isinstance(self.refusal, StaleEdit):  # found under the row lock; ours is fresher
            stale = {**self.refusal.errors, **stale}
        if stale:
            self.refuse_stale(stale)
        if self.refusal is not None and not isinstance(self.refusal, StaleEdit):
            raise ValidationError(self.refusal.message, code=self.refusal.code)
        return cleaned

    def changed(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The cleaned values of those of `names` that the form changed."""
        return {name: self.cleaned_data[name] for name in names if name in self.changed_data}


class CustomerForm(ServiceForm[Customer]):
    class Meta:
        model = Customer
        fields = ("name", "email", "phone", "address", "preferences", "portal_user")
        # Labelled checkboxes and a select, not raw JSON (still one JSON value underneath).
        widgets = {"preferences": PreferencesWidget}

    def apply(self, *, user: User) -> Customer:
        data = self.cleaned_data
        if self.instance.pk is None:
            # No domain action creates a customer: a new row has no history for a rule to guard.
            customer = Customer.objects.create(
                **{name: data[name] for name in (*services.CONTACT_FIELDS, "portal_user") if name in data}
            )
        else:
            customer = self.locked_row()
            contact = self.changed(services.CONTACT_FIELDS)
            if contact:
                customer = services.update_contact_details(customer=customer, **contact)
            if "portal_user" in self.changed_data:
                # Which login belongs to the customer is the admin's to decide; realtime closes
                # the old login's sockets when it changes.
                customer.portal_user = data["portal_user"]
                customer.save(update_fields=["portal_user", "updated_at"])
        if "preferences" in self.changed_data:
            customer = services.update_preferences(customer=customer, preferences=data["preferences"] or {})
        return customer


class JobForm(ServiceForm[Job]):
    class Meta:
        model = Job
        fields = (
            "customer",
            "service_type",
            "scheduled_start",
            "scheduled_end",
            "technician",
            "address",
            "status",
            "customer_notes",
            "internal_notes",
        )

    def apply(self, *, user: User) -> Job:
        data = self.cleaned_data
        if self.instance.pk is None:
            job = services.schedule_job(
                customer=data["customer"],
                service_type=data["service_type"],
                start=data["scheduled_start"],
                end=data["scheduled_end"],
                technician=data["technician"],
                address=data["address"],
                customer_notes=data["customer_notes"],
                internal_notes=data["internal_notes"],
            )
            if data.get("status", job.status) != job.status:  # booked straight as confirmed, say
                job = services.change_job_status(job=job, status=data["status"])
            return job
        job = self.locked_row()
        details = self.changed(JOB_DETAIL_FIELDS)
        if details:
            job = services.update_job(job=job, **details)
        times = self.changed(("scheduled_start", "scheduled_end"))
        if times:  # a time left alone keeps its stored value, whatever the form still shows
            job = services.reschedule_job(
                job=job,
                start=times.get("scheduled_start", job.scheduled_start),
                end=times.get("scheduled_end", job.scheduled_end),
            )
        if "status" in self.changed_data:
            job = services.change_job_status(job=job, status=data["status"])
        return job


class InvoiceForm(ServiceForm[Invoice]):
    number = forms.CharField(
        max_length=32, required=False, help_text="Leave blank on a new invoice for the next free number."
    )

    class Meta:
        model = Invoice
        fields = ("customer", "job", "number", "total", "status", "due_date")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["number"].required = self.instance.pk is not None

    def apply(self, *, user: User) -> Invoice:
        data = self.cleaned_data
        if self.instance.pk is None:
            return services.create_invoice(
                customer=data["customer"], total=data["total"], job=data.get("job"), number=data["number"]
            )
        invoice = self.locked_row()
        status = data["status"] if "status" in self.changed_data else invoice.status
        sending = status == Invoice.Status.SENT and invoice.status != status
        # Sending sets the due date itself (the one in the form, or the default).
        editable = tuple(name for name in INVOICE_FIELDS if not (sending and name == "due_date"))
        edits = self.changed(editable)
        if edits:
            invoice = services.update_invoice(invoice=invoice, **edits)
        if status == invoice.status:
            return invoice
        if status == Invoice.Status.SENT:
            due_date = data.get("due_date") if "due_date" in self.changed_data else invoice.due_date
            return services.send_invoice(invoice=invoice, due_date=due_date)
        if status == Invoice.Status.PAID:
            return services.mark_invoice_paid(invoice=invoice)
        if status == Invoice.Status.OVERDUE:
            return services.mark_invoice_overdue(invoice=invoice)
        if status == Invoice.Status.VOID:
            return services.void_invoice(invoice=invoice)
        raise DomainError("An invoice cannot go back to draft.", code="not_draft")


class MessageForm(ServiceForm[Message]):
    is_read = forms.BooleanField(required=False, label="Read")
    is_deleted = forms.BooleanField(
        required=False, label="Deleted", help_text="Customers stop seeing a deleted message; the row stays."
    )

    class Meta:
        model = Message
        fields = ("customer", "direction", "body")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["is_read"] = self.instance.read_at is not None
        self.initial["is_deleted"] = self.instance.deleted_at is not None

    def apply(self, *, user: User) -> Message:
        data = self.cleaned_data
        if self.instance.pk is None:
            return services.post_message(
                customer=data["customer"], body=data["body"], author=user, direction=data["direction"]
            )
        message = self.locked_row()
        if "is_read" in self.changed_data:
            if not data["is_read"]:
                raise DomainError("A read message cannot be marked unread.", code="irreversible")
            message = services.mark_message_read(message=message)
        if "is_deleted" in self.changed_data:
            if not data["is_deleted"]:
                raise DomainError("A deleted message cannot be restored.", code="irreversible")
            message = services.delete_message(message=message)
        return message


class NewMessageForm(forms.ModelForm[Message]):
    """The customer page's "write a message" form; `CustomerAdmin.save_formset` posts it."""

    # The service's limit, checked here so that a long message is a form error, not a 500.
    body = forms.CharField(widget=forms.Textarea, max_length=services.MAX_MESSAGE_LENGTH)

    class Meta:
        model = Message
        fields = ("direction", "body")


class LoyaltyTransactionForm(ServiceForm[LoyaltyTransaction]):
    # Not the model's `points`: a redemption is entered as the (positive) points taken, and the
    # services give the sign; the model's sign constraints would refuse it before they could.
    amount = forms.IntegerField(
        label="Points",
        help_text="Earned, bonus and redeemed: a positive number. Adjustment: negative takes points away.",
    )

    class Meta:
        model = LoyaltyTransaction
        fields = ("customer", "kind", "description", "job", "invoice")

    def clean(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        linked = data.get("job") or data.get("invoice")
        if linked and data.get("kind") not in (LoyaltyTransaction.Kind.EARNED, LoyaltyTransaction.Kind.BONUS):
            raise ValidationError("Only earned or bonus points refer to a job or an invoice.")
        return super().clean()

    def apply(self, *, user: User) -> LoyaltyTransaction:
        data = self.cleaned_data
        customer, points, description = data["customer"], data["amount"], data["description"]
        kind = data["kind"]
        if kind in (LoyaltyTransaction.Kind.EARNED, LoyaltyTransaction.Kind.BONUS):
            return services.award_points(
                customer=customer,
                points=points,
                description=description,
                bonus=kind == LoyaltyTransaction.Kind.BONUS,
                job=data.get("job"),
                invoice=data.get("invoice"),
            )
        if kind == LoyaltyTransaction.Kind.REDEEMED:
            return services.redeem_points(customer=customer, points=points, description=description)
        return services.adjust_points(customer=customer, points=points, description=description)

"""The staff CRM, in the Django admin.

Every write goes through `crm.services`. Admin actions call the domain actions one object at a
time and report each refusal. Change forms translate an edit into the same calls (`apply`), and
try those calls first in a savepoint that is always rolled back, so a refusal becomes a form
error next to the fields rather than a server error after "Save": status fields stay editable,
but a transition the services refuse cannot be saved. Fields that no rule guards (notes, the
technician, an invoice total) are saved as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from crm import services
from crm.models import Customer, Invoice, Job, LoyaltyTransaction, Message, User
from crm.services import DomainError

# What the one-click customer action awards; any other amount goes through the points form.
QUICK_BONUS_POINTS = 50

admin.site.register(User, UserAdmin)


# --- forms that save through services -------------------------------------------------------------


class _TrialRun(Exception):
    """Raised to roll back a form's trial run of its service calls."""


class ServiceForm(forms.ModelForm):
    """A model form whose save is a sequence of domain actions, spelled out in `apply`.

    `apply` reads `cleaned_data` and `changed_data` (never `self.instance`'s fields, which the
    form overwrites after `clean`) and returns the saved row.
    """

    def apply(self, *, user: User | None) -> models.Model:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            try:
                with transaction.atomic():
                    self.apply(user=None)
                    raise _TrialRun
            except DomainError as error:
                raise ValidationError(error.message, code=error.code) from None
            except _TrialRun:
                pass
        return cleaned


class ServiceFormAdmin(admin.ModelAdmin):
    """Saves the change form through `form.apply` instead of `obj.save()`."""

    def save_model(self, request: HttpRequest, obj: models.Model, form: ServiceForm, change: bool) -> None:
        saved = form.apply(user=request.user)
        obj.pk = saved.pk
        obj.refresh_from_db()


def _save_plain_fields(obj: models.Model, form: ServiceForm, fields: tuple[str, ...]) -> None:
    changed = [name for name in fields if name in form.changed_data]
    if changed:
        for name in changed:
            setattr(obj, name, form.cleaned_data[name])
        obj.save(update_fields=[*changed, "updated_at"])


class CustomerForm(ServiceForm):
    class Meta:
        model = Customer
        fields = ("name", "email", "phone", "address", "preferences", "portal_user")

    def apply(self, *, user: User | None) -> Customer:
        data = self.cleaned_data
        if self.instance.pk is None:
            # No domain action creates a customer: a new row has no history for a rule to guard.
            customer = Customer.objects.create(
                **{name: data[name] for name in (*services.CONTACT_FIELDS, "portal_user") if name in data}
            )
        else:
            customer = Customer.objects.get(pk=self.instance.pk)
            contact = {name: data[name] for name in services.CONTACT_FIELDS if name in self.changed_data}
            if contact:
                customer = services.update_contact_details(customer=customer, **contact)
            _save_plain_fields(customer, self, ("portal_user",))
        if "preferences" in self.changed_data:
            customer = services.update_preferences(customer=customer, preferences=data["preferences"] or {})
        return customer


class JobForm(ServiceForm):
    PLAIN_FIELDS = ("customer", "service_type", "technician", "address", "customer_notes", "internal_notes")

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

    def apply(self, *, user: User | None) -> Job:
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
        else:
            job = Job.objects.get(pk=self.instance.pk)
            _save_plain_fields(job, self, self.PLAIN_FIELDS)
            if {"scheduled_start", "scheduled_end"} & set(self.changed_data):
                job = services.reschedule_job(
                    job=job, start=data["scheduled_start"], end=data["scheduled_end"]
                )
        if data.get("status", job.status) != job.status:
            job = services.change_job_status(job=job, status=data["status"])
        return job


class InvoiceForm(ServiceForm):
    PLAIN_FIELDS = ("customer", "job", "number", "total", "due_date")

    number = forms.CharField(
        max_length=32, required=False, help_text="Leave blank on a new invoice for the next free number."
    )

    class Meta:
        model = Invoice
        fields = ("customer", "job", "number", "total", "status", "due_date")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["number"].required = self.instance.pk is not None

    def apply(self, *, user: User | None) -> Invoice:
        data = self.cleaned_data
        if self.instance.pk is None:
            return services.create_invoice(
                customer=data["customer"], total=data["total"], job=data.get("job"), number=data["number"]
            )
        invoice = Invoice.objects.get(pk=self.instance.pk)
        status = data.get("status", invoice.status)
        sending = status == Invoice.Status.SENT and invoice.status != status
        # Sending sets the due date itself (the one in the form, or the default).
        plain = tuple(name for name in self.PLAIN_FIELDS if not (sending and name == "due_date"))
        _save_plain_fields(invoice, self, plain)
        if status == invoice.status:
            return invoice
        if status == Invoice.Status.SENT:
            return services.send_invoice(invoice=invoice, due_date=data.get("due_date"))
        if status == Invoice.Status.PAID:
            return services.mark_invoice_paid(invoice=invoice)
        if status == Invoice.Status.OVERDUE:
            return services.mark_invoice_overdue(invoice=invoice)
        if status == Invoice.Status.VOID:
            return services.void_invoice(invoice=invoice)
        raise DomainError("An invoice cannot go back to draft.", code="not_draft")


class MessageForm(ServiceForm):
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

    def apply(self, *, user: User | None) -> Message:
        data = self.cleaned_data
        if self.instance.pk is None:
            return services.post_message(
                customer=data["customer"], body=data["body"], author=user, direction=data["direction"]
            )
        message = Message.objects.get(pk=self.instance.pk)
        if "is_read" in self.changed_data:
            if not data["is_read"]:
                raise DomainError("A read message cannot be marked unread.", code="irreversible")
            message = services.mark_message_read(message=message)
        if "is_deleted" in self.changed_data:
            if not data["is_deleted"]:
                raise DomainError("A deleted message cannot be restored.", code="irreversible")
            message = services.delete_message(message=message)
        return message


class LoyaltyTransactionForm(ServiceForm):
    # Not the model's `points`: a redemption is entered as the (positive) points taken, and the
    # services give the sign; the model's sign constraints would refuse it before they could.
    amount = forms.IntegerField(
        label="Points",
        help_text="Earned, bonus and redeemed: a positive number. Adjustment: negative takes points away.",
    )

    class Meta:
        model = LoyaltyTransaction
        fields = ("customer", "kind", "description", "job", "invoice")

    def clean(self) -> dict[str, Any]:
        data = self.cleaned_data
        linked = data.get("job") or data.get("invoice")
        if linked and data.get("kind") not in (LoyaltyTransaction.Kind.EARNED, LoyaltyTransaction.Kind.BONUS):
            raise ValidationError("Only earned or bonus points refer to a job or an invoice.")
        return super().clean()

    def apply(self, *, user: User | None) -> LoyaltyTransaction:
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


# --- admin actions ------------------------------------------------------------------------------------


def domain_action(name: str, description: str, done: str, act: Callable[[Any], object]) -> Callable:
    """An admin action that calls `act(obj)` per selected row and reports each outcome."""

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            try:
                act(obj)
            except DomainError as error:
                modeladmin.message_user(request, f"{obj}: {error.message}", level=messages.ERROR)
            else:
                modeladmin.message_user(request, f"{obj}: {done}.", level=messages.SUCCESS)

    action.__name__ = name
    return admin.action(description=description, permissions=["change"])(action)


def job_status_action(status: Job.Status, description: str) -> Callable:
    return domain_action(
        f"mark_{status}",
        description,
        str(status.label).lower(),
        lambda job: services.change_job_status(job=job, status=status),
    )


def points_form_action(name: str, description: str, kind: LoyaltyTransaction.Kind) -> Callable:
    """Open the points form for one customer, with the kind chosen."""

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet):
        if queryset.count() != 1:
            modeladmin.message_user(request, "Select exactly one customer.", level=messages.ERROR)
            return None
        query = urlencode({"customer": queryset.get().pk, "kind": kind})
        return HttpResponseRedirect(f"{reverse('admin:crm_loyaltytransaction_add')}?{query}")

    action.__name__ = name
    return admin.action(description=description, permissions=["change"])(action)


# --- customer -----------------------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    """Rows listed on the customer page; each is edited on its own page, through its form."""

    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return tuple(self.fields or ())


class JobInline(ReadOnlyInline):
    model = Job
    fields = ("scheduled_start", "service_type", "technician", "status", "internal_notes")
    ordering = ("-scheduled_start",)


class InvoiceInline(ReadOnlyInline):
    model = Invoice
    fields = ("number", "total", "status", "due_date", "paid_at", "job")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("job__customer")


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "direction", "author", "body", "read_at", "deleted_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("author")


class NewMessageInline(admin.StackedInline):
    """Write to the customer from their page; saved through `post_message`."""

    model = Message
    fields = ("direction", "body")
    extra = 1
    max_num = 1
    can_delete = False
    verbose_name = "new message"
    verbose_name_plural = "write a message"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).none()


class LoyaltyInline(ReadOnlyInline):
    model = LoyaltyTransaction
    fields = ("created_at", "kind", "points", "description", "job", "invoice")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("job__customer", "invoice")


@admin.register(Customer)
class CustomerAdmin(ServiceFormAdmin):
    form = CustomerForm
    list_display = ("name", "email", "phone", "portal_user", "balance", "created_at")
    list_select_related = ("portal_user",)
    list_filter = (("portal_user", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("name", "email", "phone", "portal_user__username")
    date_hierarchy = "created_at"
    autocomplete_fields = ("portal_user",)
    readonly_fields = ("balance", "created_at", "updated_at")
    fields = (
        "name",
        "email",
        "phone",
        "address",
        "preferences",
        "portal_user",
        "balance",
        "created_at",
        "updated_at",
    )
    inlines = (JobInline, InvoiceInline, MessageInline, NewMessageInline, LoyaltyInline)
    actions = (
        domain_action(
            "award_quick_bonus",
            f"Award {QUICK_BONUS_POINTS} bonus points",
            f"{QUICK_BONUS_POINTS} bonus points awarded",
            lambda customer: services.award_points(
                customer=customer, points=QUICK_BONUS_POINTS, bonus=True, description="Bonus from staff"
            ),
        ),
        points_form_action(
            "award_bonus_points", "Award bonus points (choose the amount)…", LoyaltyTransaction.Kind.BONUS
        ),
        points_form_action("adjust_points", "Adjust points…", LoyaltyTransaction.Kind.ADJUSTMENT),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # One subquery rather than a join, so other annotations or filters cannot multiply the sum.
        totals = (
            LoyaltyTransaction.objects.filter(customer=OuterRef("pk"))
            .order_by()
            .values("customer")
            .annotate(total=Sum("points"))
            .values("total")
        )
        balance = Coalesce(Subquery(totals, output_field=IntegerField()), Value(0))
        return super().get_queryset(request).annotate(balance=balance)

    @admin.display(description="Points", ordering="balance")
    def balance(self, customer: Customer) -> int:
        # Annotated on the changelist; the change page's object may come from elsewhere.
        return customer.balance if hasattr(customer, "balance") else customer.points_balance

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Message:
            super().save_formset(request, form, formset, change)
            return
        for message in formset.save(commit=False):
            services.post_message(
                customer=form.instance, body=message.body, author=request.user, direction=message.direction
            )


# --- jobs, invoices, messages, loyalty --------------------------------------------------------------


@admin.register(Job)
class JobAdmin(ServiceFormAdmin):
    form = JobForm
    list_display = ("scheduled_start", "service_type", "customer", "technician", "status")
    list_select_related = ("customer",)
    list_filter = ("status", "scheduled_start", "technician")
    search_fields = ("service_type", "customer__name", "technician", "address")
    date_hierarchy = "scheduled_start"
    autocomplete_fields = ("customer",)
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "customer",
                    "service_type",
                    ("scheduled_start", "scheduled_end"),
                    "technician",
                    "address",
                    "status",
                )
            },
        ),
        ("Notes", {"fields": ("customer_notes", "internal_notes")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    actions = (
        job_status_action(Job.Status.CONFIRMED, "Confirm selected jobs"),
        job_status_action(Job.Status.EN_ROUTE, "Mark selected jobs en route"),
        job_status_action(Job.Status.IN_PROGRESS, "Start selected jobs"),
        domain_action(
            "complete_jobs",
            "Complete selected jobs (awards points)",
            "completed",
            lambda job: services.complete_job(job=job),
        ),
        domain_action(
            "cancel_jobs", "Cancel selected jobs", "cancelled", lambda job: services.cancel_job(job=job)
        ),
    )


@admin.register(Invoice)
class InvoiceAdmin(ServiceFormAdmin):
    form = InvoiceForm
    list_display = ("number", "customer", "total", "status", "due_date", "sent_at", "paid_at")
    list_select_related = ("customer",)
    list_filter = ("status", "due_date", "created_at")
    search_fields = ("number", "customer__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("customer", "job")
    fields = (
        "customer",
        "job",
        "number",
        "total",
        "status",
        "due_date",
        "sent_at",
        "paid_at",
        "created_at",
        "updated_at",
    )
    actions = (
        domain_action(
            "send_invoices",
            "Mark selected invoices sent",
            "sent",
            lambda inv: services.send_invoice(invoice=inv),
        ),
        domain_action(
            "mark_invoices_paid",
            "Mark selected invoices paid",
            "paid",
            lambda inv: services.mark_invoice_paid(invoice=inv),
        ),
        domain_action(
            "mark_invoices_overdue",
            "Mark selected invoices overdue",
            "overdue",
            lambda inv: services.mark_invoice_overdue(invoice=inv),
        ),
        domain_action(
            "void_invoices",
            "Void selected invoices",
            "voided",
            lambda inv: services.void_invoice(invoice=inv),
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Invoice | None = None) -> tuple[str, ...]:
        stamps = ("sent_at", "paid_at", "created_at", "updated_at")
        # A new invoice is a draft; its status and due date come when it is sent.
        return stamps if obj else ("status", "due_date", *stamps)


@admin.register(Message)
class MessageAdmin(ServiceFormAdmin):
    form = MessageForm
    list_display = ("created_at", "customer", "direction", "__str__", "author", "read_at", "deleted_at")
    list_select_related = ("customer", "author")
    list_filter = (
        "direction",
        ("read_at", admin.EmptyFieldListFilter),
        ("deleted_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("body", "customer__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("customer",)
    actions = (
        domain_action(
            "mark_read",
            "Mark selected messages read",
            "marked read",
            lambda m: services.mark_message_read(message=m),
        ),
        domain_action(
            "soft_delete",
            "Delete selected messages (soft)",
            "deleted",
            lambda m: services.delete_message(message=m),
        ),
    )

    def get_fields(self, request: HttpRequest, obj: Message | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("customer", "direction", "body")
        return (
            "customer",
            "direction",
            "author",
            "body",
            "created_at",
            "read_at",
            "deleted_at",
            "is_read",
            "is_deleted",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Message | None = None) -> tuple[str, ...]:
        # What was said stays as it was said; only reading and deleting change a message.
        return (
            ("customer", "direction", "author", "body", "created_at", "read_at", "deleted_at") if obj else ()
        )

    def has_delete_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        # Staff soft-delete (the action); erasing the row is for a superuser.
        return request.user.is_superuser


@admin.register(LoyaltyTransaction)
class LoyaltyTransactionAdmin(ServiceFormAdmin):
    form = LoyaltyTransactionForm
    list_display = ("created_at", "customer", "kind", "points", "description", "job")
    list_select_related = ("customer", "job__customer")
    list_filter = ("kind", "created_at")
    search_fields = ("customer__name", "description")
    date_hierarchy = "created_at"
    autocomplete_fields = ("customer", "job", "invoice")

    def get_fields(self, request: HttpRequest, obj: LoyaltyTransaction | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("customer", "kind", "amount", "description", "job", "invoice")
        return ("customer", "kind", "points", "description", "job", "invoice", "created_at")

    def get_readonly_fields(
        self, request: HttpRequest, obj: LoyaltyTransaction | None = None
    ) -> tuple[str, ...]:
        return self.get_fields(request, obj) if obj else ()

    # The ledger is append-only: a wrong row is corrected with an adjustment, so the balance
    # always equals the sum of what happened.
    def has_change_permission(self, request: HttpRequest, obj: LoyaltyTransaction | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: LoyaltyTransaction | None = None) -> bool:
        return request.user.is_superuser

"""The staff CRM, in the Django admin.

Every write goes through `crm.services`: change forms through their `apply` (`crm.admin.forms`),
run once per save by `ServiceFormAdmin` (`crm.admin.service_admin`); actions one object at a time
with each refusal reported (`crm.admin.actions`). A record's customer is fixed once it exists.
Staff rights come from the "Staff" group (`crm.roles`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from crm import services
from crm.admin.actions import domain_action, job_status_action, points_form_action
from crm.admin.forms import CustomerForm, InvoiceForm, JobForm, LoyaltyTransactionForm, MessageForm
from crm.admin.inlines import InvoiceInline, JobInline, LoyaltyInline, MessageInline, NewMessageInline
from crm.admin.service_admin import ServiceFormAdmin, acting_user
from crm.models import Customer, Invoice, Job, LoyaltyTransaction, Message, User
from crm.selectors import with_points_balance

# What the one-click customer action awards; any other amount goes through the points form.
QUICK_BONUS_POINTS = 50
QUICK_BONUS_DESCRIPTION = "A thank-you bonus"  # the customer reads it: their words, not ours

admin.site.register(User, UserAdmin)


# --- customer -----------------------------------------------------------------------------------------


@admin.register(Customer)
class CustomerAdmin(ServiceFormAdmin[Customer]):
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
                customer=customer, points=QUICK_BONUS_POINTS, bonus=True, description=QUICK_BONUS_DESCRIPTION
            ),
        ),
        points_form_action(
            "award_bonus_points", "Award bonus points (choose the amount)…", LoyaltyTransaction.Kind.BONUS
        ),
        points_form_action("adjust_points", "Adjust points…", LoyaltyTransaction.Kind.ADJUSTMENT),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return with_points_balance(super().get_queryset(request))

    @admin.display(description="Points", ordering="balance")
    def balance(self, customer: Customer) -> int:
        # Annotated on the changelist; the change page's object may come from elsewhere.
        return customer.balance if hasattr(customer, "balance") else customer.points_balance

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Message:
            super().save_formset(request, form, formset, change)
            return
        # NewMessageForm has checked the body against the service's rules.
        for message in formset.save(commit=False):
            services.post_message(
                customer=form.instance,
                body=message.body,
                author=acting_user(request),
                direction=message.direction,
            )


# --- jobs, invoices, messages, loyalty --------------------------------------------------------------


@admin.register(Job)
class JobAdmin(ServiceFormAdmin[Job]):
    form = JobForm
    list_display = ("scheduled_start", "service_type", "customer", "technician", "status")
    list_select_related = ("customer",)
    list_filter = ("status", "scheduled_start", "technician")
    search_fields = ("service_type", "customer__name", "technician", "address")
    date_hierarchy = "scheduled_start"
    autocomplete_fields = ("customer",)
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

    def get_readonly_fields(self, request: HttpRequest, obj: Job | None = None) -> tuple[str, ...]:
        # A job stays with its customer: book a new one for someone else.
        return ("customer", "created_at", "updated_at") if obj else ("created_at", "updated_at")


@admin.register(Invoice)
class InvoiceAdmin(ServiceFormAdmin[Invoice]):
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
        # An invoice stays with its customer. A new one is a draft; its status and due date come
        # when it is sent.
        return ("customer", *stamps) if obj else ("status", "due_date", *stamps)


@admin.register(Message)
class MessageAdmin(ServiceFormAdmin[Message]):
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
class LoyaltyTransactionAdmin(ServiceFormAdmin[LoyaltyTransaction]):
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

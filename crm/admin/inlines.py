"""The customer page's inlines: the customer's history, read-only, and a form to write to them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.admin.forms import NewMessageForm
from crm.models import Invoice, Job, LoyaltyTransaction, Message


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
    form = NewMessageForm
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

"""The customer page's inlines: the customer's history, read-only, and a form to write to them."""

from __future__ import annotations

from typing import TypeVar

from django.contrib import admin
from django.contrib.admin.utils import flatten
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.admin.forms import NewMessageForm
from crm.models import Customer, Invoice, Job, LoyaltyTransaction, Message

_M = TypeVar("_M", bound=models.Model)


class ReadOnlyInline(admin.TabularInline[_M, Customer]):
    """Rows listed on the customer page; each is edited on its own page, through its form."""

    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None) -> tuple[str, ...]:
        return tuple(flatten(self.fields or ()))


class JobInline(ReadOnlyInline[Job]):
    model = Job
    fields = ("scheduled_start", "service_type", "technician", "status", "internal_notes")
    ordering = ("-scheduled_start",)


class InvoiceInline(ReadOnlyInline[Invoice]):
    model = Invoice
    fields = ("number", "total", "status", "due_date", "paid_at", "job")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Invoice]:
        return super().get_queryset(request).select_related("job__customer")


class MessageInline(ReadOnlyInline[Message]):
    model = Message
    fields = ("created_at", "direction", "author", "body", "read_at", "deleted_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("author")


class NewMessageInline(admin.StackedInline[Message, Customer]):
    """Write to the customer from their page; saved through `post_message`."""

    model = Message
    form = NewMessageForm
    fields = ("direction", "body")
    extra = 1
    max_num = 1
    can_delete = False
    verbose_name = "new message"
    verbose_name_plural = "write a message"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).none()


class LoyaltyInline(ReadOnlyInline[LoyaltyTransaction]):
    model = LoyaltyTransaction
    fields = ("created_at", "kind", "points", "description", "job", "invoice")

    def get_queryset(self, request: HttpRequest) -> QuerySet[LoyaltyTransaction]:
        return super().get_queryset(request).select_related("job__customer", "invoice")

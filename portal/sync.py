"""The realtime registry entries: which CRM models reach the portal, and as which events."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Q, QuerySet

from crm.models import (
    AppointmentRequest,
    Customer,
    Invoice,
    Job,
    LoyaltyQuerySet,
    LoyaltyTransaction,
    Message,
)
from portal import serializers
from realtime.events import Event
from realtime.registry import Change, SyncedModel, register, register_owner


def job_event(change: Change) -> Event:
    if change.op == "insert":
        return Event.JOB_SCHEDULED
    if change.op == "delete":
        return Event.JOB_DELETED
    if "status" in change.changed:
        status = change.row["status"]
        if status == Job.Status.COMPLETED:
            return Event.JOB_COMPLETED
        if status == Job.Status.CANCELLED:
            return Event.JOB_CANCELLED
        return Event.JOB_STATUS_CHANGED
    if {"scheduled_start", "scheduled_end"} & set(change.changed):
        return Event.JOB_RESCHEDULED
    return Event.JOB_UPDATED


_INVOICE_STATUS_EVENTS = {
    Invoice.Status.SENT: Event.INVOICE_SENT,
    Invoice.Status.PAID: Event.INVOICE_PAID,
    Invoice.Status.OVERDUE: Event.INVOICE_OVERDUE,
}


def invoice_event(change: Change) -> Event:
    if change.op == "insert":
        # A draft becoming visible is the customer's first sight of it: "sent", not "created".
        return (
            Event.INVOICE_CREATED
            if change.created
            else _INVOICE_STATUS_EVENTS.get(change.row["status"], Event.INVOICE_CREATED)
        )
    if change.op == "delete":
        return Event.INVOICE_DELETED
    if "status" in change.changed:
        return _INVOICE_STATUS_EVENTS.get(change.row["status"], Event.INVOICE_UPDATED)
    return Event.INVOICE_UPDATED


def message_event(change: Change) -> Event:
    if change.op == "insert":
        return Event.MESSAGE_RECEIVED
    if change.op == "delete":
        return Event.MESSAGE_DELETED
    if "read_at" in change.changed and change.row["read_at"]:
        return Event.MESSAGE_READ
    return Event.MESSAGE_UPDATED


_LOYALTY_KIND_EVENTS = {
    LoyaltyTransaction.Kind.EARNED: Event.LOYALTY_EARNED,
    LoyaltyTransaction.Kind.REDEEMED: Event.LOYALTY_REDEEMED,
    LoyaltyTransaction.Kind.BONUS: Event.LOYALTY_BONUS,
}


def loyalty_event(change: Change) -> Event:
    if change.op == "insert":
        return _LOYALTY_KIND_EVENTS.get(change.row["kind"], Event.LOYALTY_ADJUSTED)
    return Event.LOYALTY_ADJUSTED


def _loyalty_summary(rows: QuerySet[LoyaltyTransaction]) -> dict[str, Any]:
    # Visible rows come from the default manager, whose querysets are LoyaltyQuerySets.
    return {"balance": cast(LoyaltyQuerySet, rows).balance()}


_CONTACT_FIELDS = {"name", "email", "phone", "address"}


def profile_event(change: Change) -> Event:
    if change.op != "update":
        return Event.PROFILE_UPDATED
    if _CONTACT_FIELDS & set(change.changed):
        return Event.PROFILE_CONTACT_UPDATED
    if "preferences" in change.changed:
        return Event.PROFILE_PREFERENCES_UPDATED
    return Event.PROFILE_UPDATED


_REQUEST_STATUS_EVENTS = {
    AppointmentRequest.Status.ACCEPTED: Event.REQUEST_ACCEPTED,
    AppointmentRequest.Status.DECLINED: Event.REQUEST_DECLINED,
}


def request_event(change: Change) -> Event:
    if change.op == "insert":
        return Event.REQUEST_CREATED
    if change.op == "delete":
        return Event.REQUEST_DELETED
    if "status" in change.changed:
        return _REQUEST_STATUS_EVENTS.get(change.row["status"], Event.REQUEST_UPDATED)
    return Event.REQUEST_UPDATED


register_owner(model=Customer, user_field="portal_user")

# In the order the seed lists its subscriptions: screens list topics in registration order.

register(
    SyncedModel(
        Job,
        "jobs",
        serializers.JobSerializer,
        job_event,
        ordering=("scheduled_start", "id"),
        label="Appointments",
    )
)
register(
    SyncedModel(
        Invoice,
        "invoices",
        serializers.InvoiceSerializer,
        invoice_event,
        visible=lambda invoice: invoice.status != Invoice.Status.DRAFT,
        visible_filter=~Q(status=Invoice.Status.DRAFT),
        ordering=("-created_at", "-id"),
        label="Invoices",
    )
)
register(
    SyncedModel(
        Message,
        "messages",
        serializers.MessageSerializer,
        message_event,
        visible=lambda message: message.deleted_at is None,
        visible_filter=Q(deleted_at__isnull=True),
        ordering=("created_at", "id"),
        label="Messages",
    )
)
register(
    SyncedModel(
        LoyaltyTransaction,
        "loyalty",
        serializers.LoyaltyTransactionSerializer,
        loyalty_event,
        ordering=("-created_at", "-id"),
        label="Loyalty",
        summary=_loyalty_summary,
    )
)
register(
    SyncedModel(
        Customer, "profile", serializers.ProfileSerializer, profile_event, owner_field="pk", label="Profile"
    )
)
register(
    SyncedModel(
        AppointmentRequest,
        "requests",
        serializers.AppointmentRequestSerializer,
        request_event,
        ordering=("-created_at", "-id"),
        label="Requests",
    )
)

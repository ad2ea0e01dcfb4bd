"""Every semantic event name a change frame can carry (docs/protocol.md lists them too)."""

from __future__ import annotations

from enum import StrEnum


class Event(StrEnum):
    JOB_SCHEDULED = "job.scheduled"
    JOB_RESCHEDULED = "job.rescheduled"
    JOB_STATUS_CHANGED = "job.status_changed"
    JOB_COMPLETED = "job.completed"
    JOB_CANCELLED = "job.cancelled"
    JOB_UPDATED = "job.updated"
    JOB_DELETED = "job.deleted"

    INVOICE_CREATED = "invoice.created"
    INVOICE_SENT = "invoice.sent"
    INVOICE_PAID = "invoice.paid"
    INVOICE_OVERDUE = "invoice.overdue"
    INVOICE_UPDATED = "invoice.updated"
    INVOICE_DELETED = "invoice.deleted"

    MESSAGE_RECEIVED = "message.received"
    MESSAGE_READ = "message.read"
    MESSAGE_UPDATED = "message.updated"
    MESSAGE_DELETED = "message.deleted"

    LOYALTY_EARNED = "loyalty.earned"
    LOYALTY_REDEEMED = "loyalty.redeemed"
    LOYALTY_BONUS = "loyalty.bonus"
    LOYALTY_ADJUSTED = "loyalty.adjusted"

    PROFILE_CONTACT_UPDATED = "profile.contact_updated"
    PROFILE_PREFERENCES_UPDATED = "profile.preferences_updated"
    PROFILE_UPDATED = "profile.updated"

    REQUEST_CREATED = "request.created"
    REQUEST_ACCEPTED = "request.accepted"
    REQUEST_DECLINED = "request.declined"
    REQUEST_UPDATED = "request.updated"
    REQUEST_DELETED = "request.deleted"

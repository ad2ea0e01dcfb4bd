"""Domain actions: the only way the CRM changes data.

The admin, the portal API, the portal forms and the management commands all call these. Each
runs in one transaction, validates its input and raises `DomainError` with a message fit for
a person (and a `code`) when it refuses, never a database error. Realtime events are recorded by
`realtime`'s capture as the rows are saved and published after commit, so nothing here talks to
sockets. One module per part of the domain; everything is importable from `crm.services`.
"""

from __future__ import annotations

from crm.selectors import points_balance
from crm.services.calendar_feeds import regenerate_calendar_token
from crm.services.customers import (
    CONTACT_FIELDS,
    PREFERENCE_FLAGS,
    update_contact_details,
    update_preferences,
)
from crm.services.errors import DomainError
from crm.services.inbox import (
    customer_contact_change,
    customer_message,
    customer_redemption,
    mark_handled,
    reply_to_customer,
)
from crm.services.invoices import (
    create_invoice,
    mark_invoice_overdue,
    mark_invoice_paid,
    mark_overdue_invoices,
    send_invoice,
    update_invoice,
    void_invoice,
)
from crm.services.jobs import (
    cancel_job,
    change_job_status,
    complete_job,
    reschedule_job,
    schedule_job,
    update_job,
)
from crm.services.loyalty import adjust_points, award_points, redeem_points
from crm.services.messages import (
    MAX_MESSAGE_LENGTH,
    delete_message,
    mark_message_read,
    post_message,
    valid_idempotency_key,
)
from crm.services.requests import accept_request, decline_request, request_change
from crm.services.updates import advance_digest, claimed_digest, mark_updates_seen, open_digest_cursors

__all__ = [
    "CONTACT_FIELDS",
    "MAX_MESSAGE_LENGTH",
    "PREFERENCE_FLAGS",
    "DomainError",
    "accept_request",
    "adjust_points",
    "advance_digest",
    "award_points",
    "cancel_job",
    "change_job_status",
    "claimed_digest",
    "complete_job",
    "create_invoice",
    "customer_contact_change",
    "customer_message",
    "customer_redemption",
    "decline_request",
    "delete_message",
    "mark_handled",
    "mark_invoice_overdue",
    "mark_invoice_paid",
    "mark_message_read",
    "mark_overdue_invoices",
    "mark_updates_seen",
    "open_digest_cursors",
    "points_balance",
    "post_message",
    "redeem_points",
    "regenerate_calendar_token",
    "reply_to_customer",
    "request_change",
    "reschedule_job",
    "schedule_job",
    "send_invoice",
    "update_contact_details",
    "update_invoice",
    "update_job",
    "update_preferences",
    "valid_idempotency_key",
    "void_invoice",
]

"""The staff inbox: what customers do lands here, and staff mark it handled.

The customer's actions in the portal go through the `customer_*` functions, which make the
change through the usual service and file its inbox item in the same transaction: the item and
its staff-stream event commit with the change or not at all.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from crm import staff_stream
from crm.models import Customer, LoyaltyTransaction, Message, User
from crm.services.customers import update_contact_details
from crm.services.errors import DomainError
from crm.services.loyalty import redeem_points
from crm.services.messages import post_message
from crm.staff_models import AppointmentRequest, InboxItem
from realtime.capture import lock

CREATED = "inbox.created"
HANDLED = "inbox.handled"
_FIELD_WORDS = {"name": "name", "email": "email address", "phone": "phone number", "address": "address"}


def file_item(
    *,
    customer: Customer,
    kind: str,
    summary: str,
    record: tuple[str, int],
    text: str = "",
    message: Message | None = None,
    request: AppointmentRequest | None = None,
    loyalty: LoyaltyTransaction | None = None,
) -> InboxItem:
    """Open an inbox item (inside the caller's transaction) and announce it to staff."""
    item = InboxItem.objects.create(
        customer=customer,
        kind=kind,
        summary=summary[:300],
        text=text,
        record_model=record[0],
        record_id=record[1],
        message=message,
        request=request,
        loyalty=loyalty,
    )
    staff_stream.append(event=CREATED, item=item, old=None)
    return item


def _close(item: InboxItem, by: User | None) -> InboxItem:
    old = staff_stream.represent(item)
    item.handled_at = timezone.now()
    item.handled_by = by
    item.save(update_fields=["handled_at", "handled_by"])
    staff_stream.append(event=HANDLED, item=item, old=old)
    return item


@transaction.atomic
def mark_handled(*, item: InboxItem, by: User) -> InboxItem:
    rows = InboxItem.objects.select_for_update(of=("self",)).select_related("customer", "request")
    item = rows.get(pk=item.pk)
    if item.handled_at is not None:
        who = item.handled_by.get_username() if item.handled_by else "someone"
        raise DomainError(f"This item was already handled by {who}.", code="already_handled")
    if item.request is not None and item.request.status == AppointmentRequest.Status.PENDING:
        # Handling it silently would leave the customer waiting for an answer that never comes.
        raise DomainError(
            "Accept or decline the request: the customer is waiting for the answer.", code="request_pending"
        )
    return _close(item, by)


def close_open_items(*, customer: Customer, kind: str, by: User | None, **match: Any) -> int:
    """Mark the customer's open items of `kind` (and `match`) handled: a reply or a decision
    answers them. Inside the caller's transaction."""
    items = (
        InboxItem.objects.select_for_update()
        .select_related("customer")
        .filter(customer=customer, kind=kind, handled_at__isnull=True, **match)
    )
    count = 0
    for item in items:
        _close(item, by)
        count += 1
    return count


@transaction.atomic
def reply_to_customer(*, item: InboxItem, body: str, by: User) -> Message:
    """Answer an item with a message to its customer; the customer's open messages are answered."""
    item = InboxItem.objects.select_related("customer").get(pk=item.pk)
    message = post_message(customer=item.customer, body=body, author=by)  # answers their messages
    if item.handled_at is None and item.kind != InboxItem.Kind.MESSAGE:
        _close(InboxItem.objects.select_for_update().select_related("customer").get(pk=item.pk), by)
    return message


# --- what customers do in the portal ---------------------------------------------------------


@transaction.atomic
def customer_message(
    *, customer: Customer, body: str, author: User | None, idempotency_key: str | None = None
) -> Message:
    message = post_message(
        customer=customer,
        body=body,
        author=author,
        direction=Message.Direction.TO_STAFF,
        idempotency_key=idempotency_key,
    )
    if InboxItem.objects.filter(message=message).exists():
        return message  # a retried send (same key) that the first try already filed
    file_item(
        customer=customer,
        kind=InboxItem.Kind.MESSAGE,
        summary=f"{customer.name} sent a message",
        text=message.body,
        record=("crm.message", message.pk),
        message=message,
    )
    return message


@transaction.atomic
def customer_contact_change(*, customer: Customer, **changes: str) -> Customer:
    before = lock(Customer, customer.pk)
    old = {field: getattr(before, field) for field in changes}
    customer = update_contact_details(customer=before, **changes)
    changed = [field for field in changes if getattr(customer, field) != old[field]]
    if changed:
        words = " and ".join(_FIELD_WORDS[field] for field in changed)
        file_item(
            customer=customer,
            kind=InboxItem.Kind.CONTACT,
            summary=f"{old.get('name') or customer.name} changed their {words}",
            text="; ".join(
                f"{_FIELD_WORDS[f]}: {old[f] or '—'} → {getattr(customer, f) or '—'}" for f in changed
            ),
            record=("crm.customer", customer.pk),
        )
    return customer


@transaction.atomic
def customer_redemption(*, customer: Customer, points: Any, description: str) -> LoyaltyTransaction:
    row = redeem_points(customer=customer, points=points, description=description)
    file_item(
        customer=customer,
        kind=InboxItem.Kind.REDEMPTION,
        summary=f"{customer.name} redeemed {-row.points if row.points < 0 else row.points} points",
        text=row.description,
        record=("crm.loyaltytransaction", row.pk),
        loyalty=row,
    )
    return row

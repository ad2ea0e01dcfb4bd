"""Messages between staff and a customer; deleting one is a soft delete."""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.models import Customer, Message, User
from crm.services.errors import DomainError
from crm.services.inputs import past_moment
from realtime.capture import lock

MAX_MESSAGE_LENGTH = 5000
# A client's key for one send (a UUID fits): letters, digits, "-" and "_", 8 to 64 of them.
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


def valid_idempotency_key(key: str) -> bool:
    return IDEMPOTENCY_KEY.fullmatch(key) is not None


@transaction.atomic
def post_message(
    *,
    customer: Customer,
    body: str,
    author: User | None,
    direction: str = Message.Direction.TO_CUSTOMER,
    idempotency_key: str | None = None,
) -> Message:
    """Post a message. With `idempotency_key`, a second post with the same key for the same
    customer returns the first message (whatever its body) instead of making another."""
    body = (body or "").strip()
    if not body:
        raise DomainError("A message cannot be empty.", code="empty_message")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise DomainError(f"A message is at most {MAX_MESSAGE_LENGTH} characters.", code="too_long")
    if direction not in Message.Direction.values:
        raise DomainError(f"Unknown direction {direction!r}.", code="bad_direction")
    message = _store(customer, body, author, direction, idempotency_key)
    if direction == Message.Direction.TO_CUSTOMER:
        # A reply from anywhere (the inbox, the admin's message forms) answers what the customer
        # wrote: their open message items leave the staff inbox.
        from crm.services.inbox import close_open_items  # inbox files messages through this module

        close_open_items(customer=customer, kind="message", by=author)
    return message


def _store(
    customer: Customer, body: str, author: User | None, direction: str, idempotency_key: str | None
) -> Message:
    if idempotency_key is None:
        return Message.objects.create(customer=customer, author=author, direction=direction, body=body)
    if not valid_idempotency_key(idempotency_key):
        raise DomainError("A message key is 8-64 letters, digits, '-' or '_'.", code="bad_key")
    existing = Message.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():  # a savepoint: a concurrent post of the same key may win the race
            return Message.objects.create(
                customer=customer,
                author=author,
                direction=direction,
                body=body,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        return Message.objects.get(customer=customer, idempotency_key=idempotency_key)


@transaction.atomic
def mark_message_read(*, message: Message, at: dt.datetime | None = None) -> Message:
    """Mark a message read, now or `at` (aware, not in the future); reading twice keeps the first time."""
    at = timezone.now() if at is None else past_moment(at, what="reading time")
    message = lock(Message, message.pk)
    if message.deleted_at is not None:
        raise DomainError("That message was deleted.", code="deleted")
    if message.read_at is not None:
        return message
    message.read_at = at
    message.save(update_fields=["read_at"])
    return message


@transaction.atomic
def delete_message(*, message: Message) -> Message:
    """Soft-delete: the row stays for the record; customers stop seeing it."""
    message = lock(Message, message.pk)
    if message.deleted_at is not None:
        raise DomainError("That message is already deleted.", code="deleted")
    message.deleted_at = timezone.now()
    message.save(update_fields=["deleted_at"])
    return message

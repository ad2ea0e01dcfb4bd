"""A customer's private calendar feed: issuing its token, and issuing a new one."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from crm.models import CalendarFeed, Customer

# token_urlsafe(n) gives about 1.3 characters per byte: a 16-character key and a 43-character
# (256-bit) secret, both in the URL-safe alphabet, so the token is one path segment.
_KEY_BYTES = 12
_SECRET_BYTES = 32


@transaction.atomic
def regenerate_calendar_token(*, customer: Customer) -> CalendarFeed:
    """Give the customer a calendar feed with a new token; a URL with the old one stops working
    as this commits (its key is gone). The first call creates the feed."""
    # update_or_create locks the feed's row (select_for_update) while it replaces the token.
    feed, _created = CalendarFeed.objects.update_or_create(
        customer=customer,
        defaults={
            "key": secrets.token_urlsafe(_KEY_BYTES),
            "secret": secrets.token_urlsafe(_SECRET_BYTES),
            "issued_at": timezone.now(),
        },
    )
    return feed

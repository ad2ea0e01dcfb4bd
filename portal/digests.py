"""Digest emails for customers who are away: `manage.py send_notifications` runs `send_due`.

A customer is *away* when no tab of theirs is open (`realtime.attendance`: the hubs stamp the
customers with an open socket at every sweep, in PostgreSQL, so this works from any process and
with the in-memory layer too). Changes worth an email (`portal.updates.EMAILED`) that were
recorded after their last tab closed, that the feed has not shown and whose category they have
on, are gathered until none arrived for `NOTIFY_DIGEST_QUIET_MINUTES`, then sent as one email,
to customers whose contact channel is email.

Never twice: each customer's `DigestCursor` row is locked with `SELECT … FOR UPDATE SKIP LOCKED`
for the whole decision and send, and moved past what was handled in the same transaction; any
number of senders, on any hosts, skip the customers another one holds. A send that fails rolls
back and is tried again next round. (Only if PostgreSQL fails to commit *after* the SMTP server
took the email can it go out again: nothing can be atomic across both.)
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from crm import notifications, services
from crm.digest_cursor import DigestCursor
from crm.models import Customer
from portal import unsubscribe, updates
from portal.toasts import significant
from realtime import attendance
from realtime.models import OutboxEvent

logger = logging.getLogger(__name__)

LOOKBACK = dt.timedelta(days=1)  # older news is not worth an email (and a new install sends no backlog)
MAX_EVENTS = 200  # per customer and round; the rest waits for the next round


@dataclass(frozen=True)
class Line:
    title: str
    message: str
    url: str


def _absolute(path: str) -> str:
    return f"{settings.PORTAL_BASE_URL}{path}"


def candidates(now: dt.datetime) -> list[int]:
    """Customers with an emailable change newer than their digest cursor."""
    tops = dict(
        OutboxEvent.objects.filter(updates.EMAILED, created_at__gte=now - LOOKBACK)
        # A deleted customer's events stay in the outbox (a plain id); their cursor's FK would fail.
        .filter(customer_id__in=Customer.objects.values("pk"))
        .values_list("customer_id")
        .annotate(top=Max("seq"))
        .order_by()
    )
    done = dict(
        DigestCursor.objects.filter(customer_id__in=tops).values_list("customer_id", "emailed_through")
    )
    return sorted(customer_id for customer_id, top in tops.items() if top > done.get(customer_id, 0))


def wanted(customer: Customer, events: list[OutboxEvent], last_seen: dt.datetime | None) -> list[OutboxEvent]:
    """The events this customer should be emailed about (possibly none)."""
    preferences = customer.preferences or {}
    if preferences.get("contact_channel", Customer.ContactChannel.EMAIL) != Customer.ContactChannel.EMAIL:
        return []
    if not customer.email or preferences.get("email_digests", True) is False:
        return []
    muted = notifications.muted_topics(customer)
    return [
        event
        for event in events
        if (last_seen is None or event.created_at > last_seen)  # a tab was open: it toasted
        and event.seq > customer.updates_seen_seq  # shown in the feed already
        and event.topic not in muted
    ]


def compose(customer: Customer, events: list[OutboxEvent]) -> EmailMultiAlternatives:
    lines = [
        Line(toast.title, toast.message, _absolute(toast.action_url))
        for event in events
        if (toast := significant(event)) is not None
    ]
    topics = list(dict.fromkeys(event.topic for event in events))
    links = [(updates.CATEGORY_NAMES[topic], unsubscribe.url_for(customer.pk, topic)) for topic in topics]
    context = {
        "customer": customer,
        "summary": updates.summary(events),
        "lines": lines,
        "feed_url": _absolute(reverse("portal:updates")),
        "unsubscribe": links,
        "unsubscribe_all": unsubscribe.url_for(customer.pk, unsubscribe.ALL),
        "business_name": settings.BUSINESS_NAME,
    }
    subject = f"{settings.BUSINESS_NAME}: {context['summary']}"
    email = EmailMultiAlternatives(
        subject=subject[:150],
        body=render_to_string("portal/email/digest.txt", context),
        to=[customer.email],
        # Mail clients' own unsubscribe button (RFC 2369, one-click per RFC 8058): all these emails,
        # and only emails (the portal's pop-ups stay as they are).
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_all']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email.attach_alternative(render_to_string("portal/email/digest.html", context), "text/html")
    return email


def handle(customer_id: int, now: dt.datetime) -> bool:
    """Decide and, if due, send one customer's digest; True if an email went out."""
    with services.claimed_digest(customer_id) as cursor:
        if cursor is None:
            return False  # another sender has this customer right now
        events = list(
            OutboxEvent.objects.filter(customer_id=customer_id, seq__gt=cursor.emailed_through)
            .filter(updates.EMAILED, created_at__gte=now - LOOKBACK)
            .order_by("seq")[:MAX_EVENTS]
        )
        if not events:
            return False
        last_seen = attendance.connected_until(customer_id)
        if attendance.is_present(last_seen, now):
            return False  # a tab is open: it shows them; later rounds skip them as seen
        customer = Customer.objects.get(pk=customer_id)
        chosen = wanted(customer, events, last_seen)
        quiet = dt.timedelta(minutes=settings.NOTIFY_DIGEST_QUIET_MINUTES)
        if chosen and now - max(event.created_at for event in chosen) < quiet:
            return False  # changes still arriving: gather them into one email
        services.advance_digest(cursor=cursor, through=events[-1].seq, sent_at=now if chosen else None)
        if chosen:
            compose(customer, chosen).send()
            logger.info("digest of %d change(s) sent to customer %d", len(chosen), customer_id)
        return bool(chosen)


def send_due(now: dt.datetime | None = None) -> int:
    """One round over every customer with something pending; the number of emails sent."""
    now = now or timezone.now()
    customer_ids = candidates(now)
    services.open_digest_cursors(customer_ids)
    sent = 0
    for customer_id in customer_ids:
        try:
            sent += handle(customer_id, now)
        except Exception:
            # One customer's failure (SMTP refused an address) must not stop the others; the
            # transaction rolled back, so the next round tries again.
            logger.exception("digest for customer %d failed", customer_id)
    return sent

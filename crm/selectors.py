"""Reads that several parts of the CRM need, or that hold a rule (who a calendar feed token
opens), defined once."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet
from django.utils.crypto import constant_time_compare

from crm.models import CalendarFeed, Customer, LoyaltyTransaction


def points_balance(customer: Customer | int) -> int:
    """The customer's loyalty balance: the sum of their ledger (`LoyaltyQuerySet.balance`)."""
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    return LoyaltyTransaction.objects.filter(customer_id=customer_id).balance()


def with_points_balance(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """`customers`, each annotated with `balance` (the same sum), in one query."""
    return customers.annotate(balance=LoyaltyTransaction.objects.balance_subquery(OuterRef("pk")))


def calendar_feed_owner(token: str) -> int | None:
    """The id of the customer whose calendar feed `token` opens, or None.

    The key half finds the feed; the secret half is compared in constant time. A feed works
    while its customer has an active portal login: ending their access ends it too.
    """
    parts = CalendarFeed.split_token(token)
    if parts is None:
        return None
    key, secret = parts
    feed = (
        CalendarFeed.objects.filter(key=key, customer__portal_user__is_active=True)
        .only("customer_id", "secret")
        .first()
    )
    if feed is None or not constant_time_compare(feed.secret, secret):
        return None
    return feed.customer_id

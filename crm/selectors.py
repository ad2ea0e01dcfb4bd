"""Reads that several parts of the CRM need, defined once."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet

from crm.models import Customer, LoyaltyTransaction


def points_balance(customer: Customer | int) -> int:
    """The customer's loyalty balance: the sum of their ledger (`LoyaltyQuerySet.balance`)."""
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    return LoyaltyTransaction.objects.filter(customer_id=customer_id).balance()


def with_points_balance(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """`customers`, each annotated with `balance` (the same sum), in one query."""
    return customers.annotate(balance=LoyaltyTransaction.objects.balance_subquery(OuterRef("pk")))

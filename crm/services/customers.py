"""A customer's contact details and notification preferences."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from crm.models import Customer
from crm.services.errors import DomainError
from crm.services.inputs import clean_text
from crm.services.partial_save import differing_fields, save_changes
from realtime.capture import lock

CONTACT_FIELDS = ("name", "email", "phone", "address")
PREFERENCE_FLAGS = (
    "notify_appointments",
    "notify_invoices",
    "notify_messages",
    "notify_loyalty",
    "email_digests",  # emails while away (portal.digests); the portal's notifications stay
)


@transaction.atomic
def update_contact_details(*, customer: Customer, **changes: str) -> Customer:
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise DomainError(f"Unknown contact fields: {', '.join(sorted(unknown))}.", code="unknown_field")
    customer = lock(Customer, customer.pk)
    cleaned = {field: clean_text(value, Customer, field, label=field) for field, value in changes.items()}
    if "name" in cleaned and not cleaned["name"]:
        raise DomainError("A name is required.", code="missing_name")
    if cleaned.get("email"):
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            raise DomainError(f"{cleaned['email']!r} is not an email address.", code="bad_email") from None
    save_changes(customer, cleaned, differing_fields(customer, cleaned))
    return customer


@transaction.atomic
def update_preferences(*, customer: Customer, preferences: dict[str, Any]) -> Customer:
    """Merge `preferences` into the customer's; only known keys with valid values are taken."""
    if not isinstance(preferences, dict):
        raise DomainError("Preferences must be an object.", code="bad_preferences")
    customer = lock(Customer, customer.pk)
    merged = dict(customer.preferences or {})
    for key, value in preferences.items():
        if key == "contact_channel":
            if value not in Customer.ContactChannel.values:
                raise DomainError(f"Unknown contact channel {value!r}.", code="bad_preferences")
        elif key in PREFERENCE_FLAGS:
            if not isinstance(value, bool):
                raise DomainError(f"{key} must be true or false.", code="bad_preferences")
        else:
            raise DomainError(f"Unknown preference {key!r}.", code="bad_preferences")
        merged[key] = value
    if merged != customer.preferences:
        customer.preferences = merged
        customer.save(update_fields=["preferences", "updated_at"])
    return customer

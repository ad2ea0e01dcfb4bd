"""Whether a customer wants to hear about a kind of change: the one place that decides it.

The customer's `preferences` hold four switches (`notify_appointments`, `notify_invoices`,
`notify_messages`, `notify_loyalty`; missing ones count as on). The portal's toasts
(`portal/live.py`) and any other notification (emails) ask `is_muted` / `muted_topics`, so the
rule lives here once. Muting silences notifications only: lists and counts still update.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm.models import Customer

# category -> (the preference switch, the realtime topic its changes come on)
CATEGORIES: dict[str, tuple[str, str]] = {
    "appointments": ("notify_appointments", "jobs"),
    "invoices": ("notify_invoices", "invoices"),
    "messages": ("notify_messages", "messages"),
    "loyalty": ("notify_loyalty", "loyalty"),
}
# Topics that share another's switch: a request is about an appointment.
SHARED_TOPICS = {"requests": "appointments"}
TOPIC_CATEGORIES = {topic: category for category, (_, topic) in CATEGORIES.items()} | SHARED_TOPICS

Preferences = Mapping[str, Any] | Customer


def _preferences(source: Preferences) -> Mapping[str, Any]:
    return (source.preferences or {}) if isinstance(source, Customer) else source


def is_muted(customer: Preferences, category: str) -> bool:
    """True when the customer switched notifications of `category` (or of that topic) off.

    `customer` is a Customer or its `preferences` dict; `category` is one of `CATEGORIES` or a
    topic name (`jobs`). An unknown category, and `profile`, are never muted.
    """
    category = TOPIC_CATEGORIES.get(category, category)
    if category not in CATEGORIES:
        return False
    flag, _ = CATEGORIES[category]
    return _preferences(customer).get(flag, True) is False


def muted_topics(customer: Preferences) -> frozenset[str]:
    """The realtime topics whose changes must not notify this customer."""
    return frozenset(topic for topic, category in TOPIC_CATEGORIES.items() if is_muted(customer, category))

"""A customer's whole HTTP session after every kind of staff action on them and on another
customer: every page, list fragment, snapshot API response and live fragment, scanned for
anything internal (internal notes, drafts, staff-only columns) and anything of the other
customer (names, ids). The socket frames of the same scenario are scanned by
tests/security/test_isolation.py."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from crm.models import AppointmentRequest, Customer, Invoice, Job, LoyaltyTransaction, Message
from realtime.models import OutboxEvent
from tests.realtime import helpers, snapshots
from tests.realtime.scenarios import every_action, existing_rows

pytestmark = pytest.mark.django_db

PAGES = ("dashboard", "appointments", "invoices", "messages", "loyalty", "profile")


def own_ids(customer) -> dict[str, set[int]]:
    """The ids of the customer's rows, and of rows of theirs that were deleted meanwhile."""
    ids = {
        "jobs": set(Job.objects.filter(customer=customer).values_list("pk", flat=True)),
        "invoices": set(Invoice.objects.filter(customer=customer).values_list("pk", flat=True)),
        "messages": set(Message.objects.filter(customer=customer).values_list("pk", flat=True)),
        "loyalty": set(LoyaltyTransaction.objects.filter(customer=customer).values_list("pk", flat=True)),
        "profile": {customer.pk},
        "requests": set(AppointmentRequest.objects.filter(customer=customer).values_list("pk", flat=True)),
    }
    for topic, object_id in OutboxEvent.objects.filter(customer_id=customer.pk).values_list(
        "topic", "object_id"
    ):
        ids[topic].add(object_id)
    return ids


def test_a_whole_session_shows_nothing_internal_and_nothing_of_another_customer(people, tomorrow_window):
    alice, bob, staff = people
    start, end = tomorrow_window()
    old_job = existing_rows(alice, staff, start, end)
    every_action(alice, bob, staff, start, end, old_job)
    Customer.objects.filter(pk=bob.pk).update(name="Robert Secretname")
    client = snapshots.logged_in_client(alice.portal_user)

    recorded: list[str] = []
    for page in PAGES:
        response = client.get(reverse(f"portal:{page}"))
        assert response.status_code == 200, page
        recorded.append(response.content.decode())
    for list_id in ("jobs-upcoming", "jobs-past", "invoice-list", "message-list", "loyalty-list"):
        recorded.append(client.get(reverse("portal:dashboard_section", args=[list_id])).content.decode())
    seqs = ",".join(
        str(seq) for seq in OutboxEvent.objects.filter(customer_id=alice.pk).values_list("seq", flat=True)
    )
    live = client.post(reverse("portal:live"), {"seqs": seqs})
    assert live.status_code == 200
    recorded.append(live.content.decode())
    api = client.get("/api/portal/snapshot/", {"limit": 1000}).json()
    recorded.append(json.dumps(api))
    for topic in ("jobs", "invoices", "messages", "loyalty", "profile"):
        recorded.append(client.get(f"/api/portal/{topic}/", {"limit": 1000}).content.decode())

    text = "\n".join(recorded)
    drafts = list(Invoice.objects.filter(status="draft").values_list("number", flat=True))
    assert drafts, "the scenario leaves drafts behind"
    for forbidden in (helpers.INTERNAL_NOTE, helpers.HIDDEN_DRAFT_PREFIX, *drafts, "Robert", "Secretname"):
        assert forbidden not in text, forbidden
    for column in ("internal_notes", "author", "updated_at", "deleted_at", "portal_user"):
        assert f'"{column}"' not in text, column
    # Every row in the API belongs to Alice; every row element on a page is one of hers.
    mine, bobs = own_ids(alice), own_ids(bob)
    for topic, body in api["topics"].items():
        rows = [body] if topic == "profile" else body["results"]
        assert {row["id"] for row in rows} <= mine[topic], topic
    prefixes = {"jobs": "job", "invoices": "invoice", "messages": "message", "loyalty": "loyalty"}
    for topic, prefix in prefixes.items():
        shown = {int(pk) for pk in re.findall(rf'id="{prefix}-(\d+)"', text)}
        assert shown <= mine[topic], topic
        assert not shown & bobs[topic], topic

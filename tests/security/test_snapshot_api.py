"""The snapshot API under /api/portal/: same ownership rules as the socket, no drafts, paginated,
each response at one `seq`, and a query count that does not grow with the rows (no N+1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm import services
from crm.models import Invoice
from realtime import sequence
from tests.realtime import helpers

pytestmark = pytest.mark.django_db

LIST_TOPICS = ("jobs", "invoices", "messages", "loyalty")


def client_for(user) -> Client:
    return helpers.logged_in_client(user)


def fill(customer, staff, start, n: int) -> None:
    """n rows in every topic (plus a draft invoice that must stay hidden)."""
    for i in range(n):
        job = services.schedule_job(
            customer=customer,
            service_type=f"Job {i}",
            start=start + dt.timedelta(days=i),
            end=start + dt.timedelta(days=i, hours=1),
            internal_notes=helpers.INTERNAL_NOTE,
        )
        invoice = services.create_invoice(customer=customer, total=i + 1, job=job)
        services.send_invoice(invoice=invoice)
        services.post_message(customer=customer, body=f"Message {i}", author=staff)
        services.award_points(customer=customer, points=10 + i, job=job, invoice=invoice)
    services.create_invoice(
        customer=customer, total="9", number=f"{helpers.HIDDEN_DRAFT_PREFIX}{customer.pk}"
    )


@pytest.fixture
def filled(people, tomorrow_window):
    alice, bob, staff = people
    start, _end = tomorrow_window()
    fill(alice, staff, start, 3)
    fill(bob, staff, start, 2)
    return alice, bob, staff


def test_a_customer_reads_their_own_rows_only(filled):
    alice, bob, _staff = filled
    client = client_for(alice.portal_user)
    seq, _ = sequence.current(alice.pk)
    for topic in LIST_TOPICS:
        snap = helpers.api_snapshot(client, topic)
        assert snap.seq == seq
        assert len(snap.rows) == 3, topic
    assert helpers.api_snapshot(client, "profile").rows == {
        alice.pk: {
            "id": alice.pk,
            "name": "Alice Example",
            "email": "alice@example.com",
            "phone": "555-0100",
            "address": "1 Main St",
            "preferences": alice.preferences,
        }
    }
    assert helpers.api_snapshot(client, "loyalty").balance == 10 + 11 + 12
    bob_jobs = set(bob.jobs.values_list("pk", flat=True))
    assert not bob_jobs & set(helpers.api_snapshot(client, "jobs").rows)
    assert helpers.api_snapshot(client, "jobs", customer=alice.pk).seq == seq  # naming oneself is fine

    for path in ("/api/portal/jobs/", "/api/portal/profile/"):
        assert client.get(path, {"customer": bob.pk}).status_code == 403
        assert client.get(path, {"customer": "abc"}).status_code == 400
        assert Client().get(path).status_code in (401, 403)
    assert client.get("/api/portal/secrets/").status_code == 404


def test_staff_need_the_permission_and_name_the_customer(filled, make_user):
    alice, bob, staff = filled
    client = client_for(staff)
    snap = helpers.api_snapshot(client, "jobs", customer=bob.pk)
    assert set(snap.rows) == set(bob.jobs.values_list("pk", flat=True))
    assert helpers.api_snapshot(client, "profile", customer=bob.pk).rows[bob.pk]["name"] == "Bob Example"
    assert client.get("/api/portal/jobs/").status_code == 403  # no customer of their own
    assert client.get("/api/portal/jobs/", {"customer": 999999}).status_code == 403
    intern = client_for(make_user("intern", staff=True))
    assert intern.get("/api/portal/jobs/", {"customer": alice.pk}).status_code == 403
    nobody = client_for(make_user("nobody"))
    assert nobody.get("/api/portal/profile/").status_code == 403


def test_drafts_and_internal_fields_never_appear(filled):
    alice, _bob, _staff = filled
    client = client_for(alice.portal_user)
    response = client.get("/api/portal/invoices/")
    body = response.json()
    assert body["count"] == 3 == Invoice.objects.filter(customer=alice).count() - 1
    assert all(row["status"] == "sent" for row in body["results"])
    for topic in (*LIST_TOPICS, "profile"):
        path = "/api/portal/profile/" if topic == "profile" else f"/api/portal/{topic}/"
        text = client.get(path).content.decode()
        for forbidden in helpers.FORBIDDEN_TEXT:
            assert forbidden not in text, (topic, forbidden)


def test_lists_are_paginated_at_one_seq(people, tomorrow_window):
    alice, _bob, staff = people
    start, _end = tomorrow_window()
    fill(alice, staff, start, 5)
    client = client_for(alice.portal_user)
    first = client.get("/api/portal/jobs/", {"limit": 2}).json()
    assert (first["count"], len(first["results"]), first["previous"]) == (5, 2, None)
    assert "offset=2" in first["next"] and "limit=2" in first["next"]
    last = client.get("/api/portal/jobs/", {"limit": 2, "offset": 4}).json()
    assert (len(last["results"]), last["next"]) == (1, None)
    assert first["seq"] == last["seq"] == sequence.current(alice.pk)[0]
    # Display order: jobs by start time.
    everything = client.get("/api/portal/jobs/").json()["results"]
    assert [row["service_type"] for row in everything] == [f"Job {i}" for i in range(5)]
    assert everything[:2] == first["results"] and everything[4:] == last["results"]
    # The balance covers every row, not the page.
    loyalty = client.get("/api/portal/loyalty/", {"limit": 1}).json()
    assert (len(loyalty["results"]), loyalty["balance"]) == (1, sum(10 + i for i in range(5)))


@pytest.mark.parametrize("path", ["/api/portal/profile/", *(f"/api/portal/{t}/" for t in LIST_TOPICS)])
def test_query_count_does_not_grow_with_the_rows(
    people, tomorrow_window, django_assert_max_num_queries, path
):
    alice, bob, staff = people
    start, _end = tomorrow_window()
    fill(alice, staff, start, 1)
    fill(bob, staff, start, 20)
    counts = []
    for customer in (alice, bob):
        client = client_for(customer.portal_user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    # Session, user, customer, savepoint, seq, count, rows (plus the balance for loyalty), release.
    bound = {"/api/portal/profile/": 7, "/api/portal/loyalty/": 9}.get(path, 8)
    with django_assert_max_num_queries(bound):
        client.get(path)

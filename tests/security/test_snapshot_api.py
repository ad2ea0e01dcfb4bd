"""The snapshot API under /api/portal/: same ownership rules as the socket, no drafts, paginated,
each response at one `seq`, and a query count that does not grow with the rows (no N+1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm import services
from crm.models import Invoice, Job
from realtime import sequence
from realtime.models import OutboxEvent
from tests.realtime import helpers, snapshots

pytestmark = pytest.mark.django_db

LIST_TOPICS = ("jobs", "invoices", "messages", "loyalty")


def client_for(user) -> Client:
    return snapshots.logged_in_client(user)


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
        services.award_points(customer=customer, points=10 + i, job=job, invoice=invoice, bonus=True)
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
        snap = snapshots.api_snapshot(client, topic)
        assert snap.seq == seq
        assert len(snap.rows) == 3, topic
    assert snapshots.api_snapshot(client, "profile").rows == {
        alice.pk: {
            "id": alice.pk,
            "name": "Alice Example",
            "email": "alice@example.com",
            "phone": "555-0100",
            "address": "1 Main St",
            "preferences": alice.preferences,
            "updates_seen_seq": 0,
        }
    }
    assert snapshots.api_snapshot(client, "loyalty").balance == 10 + 11 + 12
    bob_jobs = set(bob.jobs.values_list("pk", flat=True))
    assert not bob_jobs & set(snapshots.api_snapshot(client, "jobs").rows)
    assert snapshots.api_snapshot(client, "jobs", customer=alice.pk).seq == seq  # naming oneself is fine

    for path in ("/api/portal/jobs/", "/api/portal/profile/"):
        assert client.get(path, {"customer": bob.pk}).status_code == 403
        assert client.get(path, {"customer": "abc"}).status_code == 400
        assert Client().get(path).status_code == 403  # documented: session auth answers 403
    assert client.get("/api/portal/secrets/").status_code == 404


def test_staff_need_the_permission_and_name_the_customer(filled, make_user):
    alice, bob, staff = filled
    client = client_for(staff)
    snap = snapshots.api_snapshot(client, "jobs", customer=bob.pk)
    assert set(snap.rows) == set(bob.jobs.values_list("pk", flat=True))
    assert snapshots.api_snapshot(client, "profile", customer=bob.pk).rows[bob.pk]["name"] == "Bob Example"
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


def read_pages(client: Client, topic: str, limit: int) -> list[dict]:
    pages, url, params = [], f"/api/portal/{topic}/", {"limit": limit}
    while url:
        page = client.get(url, params).json()
        pages.append(page)
        url, params = page["next"], {}
    return pages


def test_lists_are_paginated_by_id(people, tomorrow_window):
    alice, _bob, staff = people
    start, _end = tomorrow_window()
    fill(alice, staff, start, 5)
    client = client_for(alice.portal_user)
    pages = read_pages(client, "jobs", limit=2)
    assert [len(page["results"]) for page in pages] == [2, 2, 1]
    assert {page["count"] for page in pages} == {5}
    assert {page["seq"] for page in pages} == {sequence.current(alice.pk)[0]}
    ids = [row["id"] for page in pages for row in page["results"]]
    assert ids == sorted(ids) == sorted(Job.objects.filter(customer=alice).values_list("pk", flat=True))
    # The balance covers every row, not the page.
    loyalty = client.get("/api/portal/loyalty/", {"limit": 1}).json()
    assert (len(loyalty["results"]), loyalty["balance"]) == (1, sum(10 + i for i in range(5)))


def test_paging_while_rows_change_loses_no_row(people, tomorrow_window):
    """A row deleted after the first page is read must not push another row onto that page
    (offsets did): pages plus the changes since the smallest page seq give the fresh snapshot."""
    alice, _bob, staff = people
    start, _end = tomorrow_window()
    fill(alice, staff, start, 5)
    client = client_for(alice.portal_user)
    first = client.get("/api/portal/jobs/", {"limit": 2}).json()
    Job.objects.get(pk=first["results"][0]["id"]).delete()
    new_job = services.schedule_job(
        customer=alice, service_type="Booked meanwhile", start=start, end=start + dt.timedelta(hours=1)
    )
    rest, url = [], first["next"]
    while url:
        page = client.get(url).json()
        rest.append(page)
        url = page["next"]

    rows = {row["id"]: row for page in (first, *rest) for row in page["results"]}
    since = min(page["seq"] for page in (first, *rest))
    for event in OutboxEvent.objects.filter(customer_id=alice.pk, topic="jobs", seq__gt=since).order_by(
        "seq"
    ):
        if event.op == "delete":
            rows.pop(event.object_id, None)
        else:  # docs/protocol.md: across pages, an insert or update is an upsert
            rows[event.object_id] = event.new
    fresh = snapshots.api_snapshot(client, "jobs")
    assert rows == fresh.rows
    assert new_job.pk in rows and first["results"][0]["id"] not in rows


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"cursor": "-1"}])
def test_bad_paging_parameters_are_a_400(people, params):
    alice, _bob, _staff = people
    response = client_for(alice.portal_user).get("/api/portal/jobs/", params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


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


def test_one_snapshot_of_every_topic_at_one_seq(filled):
    """Five topics read one by one can come at five seqs; /api/portal/snapshot/ reads them all in
    one transaction, so `since` = its one seq is exact for everything it returned."""
    alice, _bob, _staff = filled
    client = client_for(alice.portal_user)
    body = client.get("/api/portal/snapshot/").json()
    assert body["seq"] == sequence.current(alice.pk)[0]
    assert tuple(body["topics"]) == helpers.TOPICS
    assert body["topics"]["profile"]["name"] == "Alice Example"
    for topic in LIST_TOPICS:
        # The same rows, count and summary as the topic's own endpoint.
        own = client.get(f"/api/portal/{topic}/").json()
        assert body["topics"][topic] == {key: value for key, value in own.items() if key != "seq"}
    assert body["topics"]["loyalty"]["balance"] == 10 + 11 + 12

    some = client.get("/api/portal/snapshot/", {"topics": "jobs,profile", "limit": 2}).json()
    assert list(some["topics"]) == ["jobs", "profile"]
    jobs = some["topics"]["jobs"]
    assert len(jobs["results"]) == 2 and jobs["count"] == 3
    # The next page comes from the topic's own endpoint, with the same limit.
    rest = client.get(jobs["next"]).json()
    assert "/api/portal/jobs/" in jobs["next"] and [len(rest["results"]), rest["next"]] == [1, None]


def test_a_snapshot_is_consistent_while_writers_commit(filled, tomorrow_window):
    """Apply the outbox after the snapshot's seq to it and get a fresh snapshot: the snapshot
    holds exactly the changes up to its seq, in every topic."""
    alice, _bob, staff = filled
    client = client_for(alice.portal_user)
    before = client.get("/api/portal/snapshot/", {"limit": 1000}).json()
    start, end = tomorrow_window(days=9)
    job = Job.objects.filter(customer=alice).first()
    services.reschedule_job(job=job, start=start, end=end)
    services.mark_invoice_paid(invoice=Invoice.objects.filter(customer=alice, status="sent").first())
    services.delete_message(message=alice.messages.first())
    services.post_message(customer=alice, body="A new one", author=staff)
    services.redeem_points(customer=alice, points=5)
    Job.objects.filter(customer=alice).last().delete()  # cascades to its invoice
    after = client.get("/api/portal/snapshot/", {"limit": 1000}).json()
    frames = [
        event.as_frame() for event in OutboxEvent.objects.filter(customer_id=alice.pk, seq__gt=before["seq"])
    ]
    assert [f["seq"] for f in frames] == list(range(before["seq"] + 1, after["seq"] + 1))
    for topic in LIST_TOPICS:
        rows = {row["id"]: row for row in before["topics"][topic]["results"]}
        expected = {row["id"]: row for row in after["topics"][topic]["results"]}
        assert snapshots.apply_changes(rows, [f for f in frames if f["topic"] == topic]) == expected, topic


@pytest.mark.parametrize("topics", ["jobs,secrets", ",", "PROFILE"])
def test_a_snapshot_of_an_unknown_topic_is_a_400(people, topics):
    alice, _bob, _staff = people
    response = client_for(alice.portal_user).get("/api/portal/snapshot/", {"topics": topics})
    assert response.status_code == 400 and "topics" in response.json()


def test_a_snapshot_follows_the_same_ownership_rules(filled, make_user):
    alice, bob, staff = filled
    assert client_for(alice.portal_user).get("/api/portal/snapshot/", {"customer": bob.pk}).status_code == 403
    assert Client().get("/api/portal/snapshot/").status_code == 403
    staff_view = client_for(staff).get("/api/portal/snapshot/", {"customer": bob.pk, "limit": 1}).json()
    assert staff_view["topics"]["profile"]["id"] == bob.pk
    assert f"customer={bob.pk}" in staff_view["topics"]["jobs"]["next"]
    intern = client_for(make_user("intern", staff=True))
    assert intern.get("/api/portal/snapshot/", {"customer": alice.pk}).status_code == 403
    text = client_for(alice.portal_user).get("/api/portal/snapshot/").content.decode()
    for forbidden in helpers.FORBIDDEN_TEXT:
        assert forbidden not in text, forbidden


def test_a_snapshot_costs_the_same_queries_for_any_number_of_rows(people, tomorrow_window):
    alice, bob, staff = people
    start, _end = tomorrow_window()
    fill(alice, staff, start, 1)
    fill(bob, staff, start, 20)
    counts = []
    for customer in (alice, bob):
        client = client_for(customer.portal_user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/portal/snapshot/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts

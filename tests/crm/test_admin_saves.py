"""An admin save runs each of its services once, and a refusal shows on the form and saves nothing."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import services
from crm.models import Job
from realtime.models import OutboxEvent
from tests.crm.conftest import change_form_data

pytestmark = pytest.mark.django_db

# The ORM's insert, or (PostgreSQL) the one statement that takes the seqs and inserts.
OUTBOX_INSERT = re.compile(rf'INSERT INTO "?{OutboxEvent._meta.db_table}"?')


def post_change_form(client, model: str, pk: int, **changes):
    """Post `model`'s change page with `changes`, returning the response and the SQL it ran."""
    page = reverse(f"admin:crm_{model}_change", args=[pk])
    data = change_form_data(client.get(page))
    data.update(changes)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(page, data)
    return response, [query["sql"] for query in queries]


def outbox_inserts(sql: list[str]) -> int:
    return sum(bool(OUTBOX_INSERT.search(statement)) for statement in sql)


def saves(model: str, staff, customer, job, make_invoice):
    """One change form save per model that calls two services (one for the message)."""
    if model == "job":
        return job.pk, {"status": "confirmed", "customer_notes": "Ring twice"}
    if model == "invoice":
        return make_invoice("sent").pk, {"total": "150.00", "status": "paid"}
    if model == "customer":
        prefs = json.dumps({**customer.preferences, "contact_channel": "sms"})
        return customer.pk, {"phone": "+1 555 0199", "preferences": prefs}
    message = services.post_message(customer=customer, body="Hello", author=staff)
    return message.pk, {"is_read": "on", "is_deleted": "on"}


@pytest.mark.parametrize("model", ["job", "invoice", "customer", "message"])
def test_each_service_runs_once_per_save(staff_client, staff, customer, job, make_invoice, model):
    pk, changes = saves(model, staff, customer, job, make_invoice)
    events_before = OutboxEvent.objects.count()
    response, sql = post_change_form(staff_client, model, pk, **changes)
    assert response.status_code == 302, response.context["adminform"].form.errors
    written = OutboxEvent.objects.count() - events_before
    # Each service saved its row once: one event each, and no outbox row written and rolled back.
    assert written == 2
    assert outbox_inserts(sql) == written


def test_a_refusal_after_a_service_ran_shows_on_the_form_and_saves_nothing(staff_client, job):
    services.change_job_status(job=job, status=Job.Status.IN_PROGRESS)
    events_before, log_before = OutboxEvent.objects.count(), LogEntry.objects.count()
    # update_job takes the notes, then change_job_status refuses the step back.
    response, sql = post_change_form(
        staff_client, "job", job.pk, customer_notes="Ring twice", status="scheduled"
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert [str(error) for error in form.non_field_errors()] == [
        "A job that is in progress cannot go back to scheduled."
    ]
    assert form["customer_notes"].value() == "Ring twice"  # what was typed is still there
    job.refresh_from_db()
    assert (job.customer_notes, job.status) == ("", "in_progress")
    assert OutboxEvent.objects.count() == events_before
    assert LogEntry.objects.count() == log_before
    # update_job wrote its event once, before the refusal rolled it back; showing the error ran no service.
    assert outbox_inserts(sql) == 1

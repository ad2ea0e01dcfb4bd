"""Two stale forms revert nothing (issue 10, "Lost updates in the admin").

Each change form carries what the staff member saw (`initial-<name>`). A save writes only the
fields they changed; a field someone else changed meanwhile keeps that value, and changing it
from a stale form is refused with an error that names the field and its value now.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from crm import services
from crm.models import Job
from realtime.models import OutboxEvent
from tests.crm.admin_pages import url
from tests.crm.conftest import change_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_form(staff):
    """`open_form(model, pk)`: another staff session opens the change page; returns what it would post."""

    def opened(model: str, pk: int) -> tuple[Client, dict]:
        client = Client()
        client.force_login(staff)
        return client, change_form_data(client.get(url(model, "change", pk)))

    return opened


def save(client: Client, model: str, pk: int, form: dict, **changes):
    return client.post(url(model, "change", pk), {**form, **changes})


def errors(response) -> dict:
    return response.context["adminform"].form.errors if response.status_code == 200 else {}


def test_two_stale_job_forms_revert_nothing_and_a_stale_change_is_refused(open_form, job):
    services.update_job(job=job, technician="Lee Park")
    a, form_a = open_form("job", job.pk)
    b, form_b = open_form("job", job.pk)

    assert save(a, "job", job.pk, form_a, technician="Ann Lee").status_code == 302
    saved = save(b, "job", job.pk, form_b, customer_notes="Gate code 1234")
    assert saved.status_code == 302, errors(saved)
    job.refresh_from_db()
    assert (job.technician, job.customer_notes) == ("Ann Lee", "Gate code 1234")  # A's kept

    # B changes the technician from the form it opened before A's save: refused, nothing written.
    events = OutboxEvent.objects.count()
    refused = save(b, "job", job.pk, form_b, technician="Sam Roe")
    assert refused.status_code == 200
    assert errors(refused)["technician"] == [
        "Technician was changed to “Ann Lee” by someone else after you opened this form. "
        "Save again to replace it with your value."
    ]
    job.refresh_from_db()
    assert job.technician == "Ann Lee" and OutboxEvent.objects.count() == events

    # The form is drawn again with B's value in the field and Ann Lee as what B saw: saving it
    # again replaces Ann Lee knowingly.
    page = refused.content.decode()
    assert 'name="technician" value="Sam Roe"' in page
    assert 'name="initial-technician" value="Ann Lee"' in page
    assert (
        save(b, "job", job.pk, form_b, technician="Sam Roe", **{"initial-technician": "Ann Lee"}).status_code
        == 302
    )
    job.refresh_from_db()
    assert job.technician == "Sam Roe"


def test_a_staff_save_keeps_the_customers_portal_edit_and_refuses_to_overwrite_it(open_form, customer):
    staff_page, form = open_form("customer", customer.pk)
    services.update_contact_details(customer=customer, address="7 Harbour Road")  # from the portal

    saved = save(staff_page, "customer", customer.pk, form, phone="+1 555 0100")
    assert saved.status_code == 302, errors(saved)
    customer.refresh_from_db()
    assert (customer.address, customer.phone) == ("7 Harbour Road", "+1 555 0100")

    refused = save(staff_page, "customer", customer.pk, form, address="1 Old Street")
    assert errors(refused)["address"] == [
        "Address was changed to “7 Harbour Road” by someone else after you opened this form. "
        "Save again to replace it with your value."
    ]
    customer.refresh_from_db()
    assert customer.address == "7 Harbour Road"


def in_a_month() -> str:
    return (timezone.localdate() + dt.timedelta(days=30)).isoformat()


def later_by_a_day(name: str):
    """The change that moves the date of a job's `name` a day later (the admin's split widget)."""
    return lambda job: {f"{name}_0": (timezone.localtime(getattr(job, name)) + dt.timedelta(days=1)).date()}


@pytest.mark.parametrize(
    ("row", "theirs", "mine", "written"),
    [
        (
            "job",
            lambda _: {"status": "confirmed"},
            lambda _: {"internal_notes": "Big van"},
            {"internal_notes"},
        ),
        ("job", later_by_a_day("scheduled_end"), later_by_a_day("scheduled_start"), {"scheduled_start"}),
        ("sent", lambda _: {"total": "150.00"}, lambda _: {"due_date": in_a_month()}, {"due_date"}),
        ("draft", lambda _: {"status": "sent"}, lambda _: {"total": "99.00"}, {"total"}),
        ("message", lambda _: {"is_read": "on"}, lambda _: {"is_deleted": "on"}, {"deleted_at"}),
        (
            "customer",
            lambda _: {"preferences": '{"contact_channel": "sms"}'},
            lambda _: {"name": "Al"},
            {"name"},
        ),
    ],
    ids=["job-status", "job-times", "invoice-total", "invoice-status", "message-read", "customer-prefs"],
)
def test_every_change_form_saves_only_what_its_staff_member_changed(
    open_form, customer, job, make_invoice, row, theirs, mine, written
):
    """Previously B's stale form put A's field back, or was refused for "undoing" A's step."""
    obj = {
        "job": lambda: job,
        "sent": lambda: make_invoice("sent"),
        "draft": lambda: make_invoice("draft"),
        "message": lambda: services.post_message(customer=customer, body="Hello", author=None),
        "customer": lambda: services.update_preferences(
            customer=customer, preferences={"contact_channel": "email"}
        ),
    }[row]()
    model = type(obj)._meta.model_name
    a, form_a = open_form(model, obj.pk)
    b, form_b = open_form(model, obj.pk)
    assert save(a, model, obj.pk, form_a, **theirs(obj)).status_code == 302
    after_a = type(obj).objects.get(pk=obj.pk)

    saved = save(b, model, obj.pk, form_b, **mine(obj))
    assert saved.status_code == 302, errors(saved)
    after_b = type(obj).objects.get(pk=obj.pk)
    fields = after_b._meta.concrete_fields
    changed = {f.name for f in fields if getattr(after_a, f.attname) != getattr(after_b, f.attname)}
    # Bookkeeping columns follow any change: the edit time, and a job's calendar revision.
    assert changed - {"updated_at", "calendar_sequence"} == written


def test_the_same_value_from_a_stale_form_is_no_conflict(open_form, job):
    a, form_a = open_form("job", job.pk)
    b, form_b = open_form("job", job.pk)
    assert save(a, "job", job.pk, form_a, technician="Ann Lee").status_code == 302
    assert save(b, "job", job.pk, form_b, technician="Ann Lee").status_code == 302


def test_a_change_between_the_check_and_the_save_is_still_caught(open_form, job, monkeypatch):
    """The check that counts runs under the row lock: a write landing after the form's `clean`
    and before the save is refused too, and the form shows it. (One connection here: the refusal
    rolls that write back with the rest of the admin's transaction, so `clean` sees no conflict
    the second time and the error comes from the refusal.)"""
    from crm.admin.forms import JobForm

    b, form_b = open_form("job", job.pk)
    clean = JobForm.clean

    def clean_then_someone_saves(form):
        cleaned = clean(form)
        if not Job.objects.filter(pk=job.pk, technician="Ann Lee").exists():
            services.update_job(job=Job.objects.get(pk=job.pk), technician="Ann Lee")
        return cleaned

    monkeypatch.setattr(JobForm, "clean", clean_then_someone_saves)
    refused = save(b, "job", job.pk, form_b, technician="Sam Roe")
    assert errors(refused)["technician"][0].startswith("Technician was changed to “Ann Lee”")
    assert Job.objects.get(pk=job.pk).technician != "Sam Roe"


def test_a_post_without_what_was_seen_compares_with_the_stored_row(staff_client, job):
    """A script or a tab from before this change: Django's own comparison, nothing refused."""
    form = change_form_data(staff_client.get(url("job", "change", job.pk)))
    form = {k: v for k, v in form.items() if not k.startswith("initial-")}
    assert save(staff_client, "job", job.pk, form, technician="Ann Lee").status_code == 302
    assert Job.objects.get(pk=job.pk).technician == "Ann Lee"

"""The admin CRM's change forms: every edit goes through the services, and their refusals come
back as form errors. Pages, rights and actions: test_admin.py."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.models import Customer, Invoice, Job, Message
from tests.crm.admin_pages import url
from tests.crm.conftest import change_form_data

pytestmark = pytest.mark.django_db


# --- change forms ---------------------------------------------------------------------------------


def post_form(client, page: str, **changes):
    data = change_form_data(client.get(page))
    data.update(changes)
    return client.post(page, data)


def form_errors(response) -> list[str]:
    return [str(e) for e in response.context["adminform"].form.non_field_errors()]


def test_job_status_in_the_form_goes_through_services(staff_client, job, customer):
    page = url("job", "change", job.pk)
    assert (
        post_form(staff_client, page, status="completed", internal_notes="Used extra foam").status_code == 302
    )
    job.refresh_from_db()
    assert (job.status, job.internal_notes) == ("completed", "Used extra foam")
    assert customer.loyalty_transactions.filter(kind="earned", job=job).exists()

    response = post_form(staff_client, page, status="scheduled")
    assert response.status_code == 200
    assert form_errors(response) == ["This job is already completed."]
    job.refresh_from_db()
    assert job.status == "completed"


def test_job_form_refuses_going_back_a_step(staff_client, job):
    services.change_job_status(job=job, status=Job.Status.IN_PROGRESS)
    response = post_form(staff_client, url("job", "change", job.pk), status="scheduled")
    assert form_errors(response) == ["A job that is in progress cannot go back to scheduled."]
    job.refresh_from_db()
    assert job.status == "in_progress"


def test_a_job_stays_with_its_customer(staff_client, job, customer, make_customer):
    bob = make_customer("Bob Example")
    page = url("job", "change", job.pk)
    assert "customer" not in staff_client.get(page).context["adminform"].form.fields  # read-only
    response = post_form(staff_client, page, customer=bob.pk, technician="Kim")
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.customer, job.technician) == (customer, "Kim")


def test_job_form_reschedules_and_refuses_a_bad_window(staff_client, job):
    page = url("job", "change", job.pk)
    start = timezone.localtime(job.scheduled_start + dt.timedelta(days=1))
    moved = {"scheduled_start_0": start.date().isoformat(), "scheduled_start_1": start.time().isoformat()}
    original = job.scheduled_start
    assert post_form(staff_client, page, **moved).status_code == 200  # now after its end: refused
    job.refresh_from_db()
    assert job.scheduled_start == original
    end = start + dt.timedelta(hours=2)
    moved |= {"scheduled_end_0": end.date().isoformat(), "scheduled_end_1": end.time().isoformat()}
    assert post_form(staff_client, page, **moved).status_code == 302
    job.refresh_from_db()
    assert (job.scheduled_start, job.scheduled_end) == (start, end)


def test_job_add_form_schedules(staff_client, customer, tomorrow_window):
    start, end = (timezone.localtime(t) for t in tomorrow_window(days=4))
    data = {
        "customer": customer.pk,
        "service_type": "Rug cleaning",
        "scheduled_start_0": start.date().isoformat(),
        "scheduled_start_1": start.time().isoformat(),
        "scheduled_end_0": end.date().isoformat(),
        "scheduled_end_1": end.time().isoformat(),
        "status": "confirmed",
    }
    assert staff_client.post(url("job", "add"), data).status_code == 302
    job = Job.objects.get()
    assert (job.service_type, job.status, job.address) == ("Rug cleaning", "confirmed", "12 Elm Street")


def test_invoice_add_form_creates_a_numbered_draft(staff_client, customer, job):
    data = {"customer": customer.pk, "job": job.pk, "number": "", "total": "99.50"}
    assert staff_client.post(url("invoice", "add"), data).status_code == 302
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.number) == ("draft", f"INV-{timezone.localdate().year}-00001")


def test_invoice_add_form_refuses_another_customers_job(staff_client, make_customer, job):
    bob = make_customer("Bob Example")
    response = staff_client.post(url("invoice", "add"), {"customer": bob.pk, "job": job.pk, "total": "10"})
    assert form_errors(response) == ["That job belongs to another customer."]
    assert not Invoice.objects.exists()


def test_invoice_status_in_the_form_goes_through_services(staff_client, make_invoice):
    invoice = make_invoice()
    page = url("invoice", "change", invoice.pk)
    due = timezone.localdate() + dt.timedelta(days=7)
    assert post_form(staff_client, page, status="sent", due_date=due.isoformat()).status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.due_date) == ("sent", due)
    assert invoice.sent_at is not None
    assert form_errors(post_form(staff_client, page, status="overdue")) == [
        "This invoice is not past its due date."
    ]
    assert form_errors(post_form(staff_client, page, status="draft")) == [
        "An invoice cannot go back to draft."
    ]
    assert post_form(staff_client, page, status="paid").status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert invoice.paid_at is not None


def test_invoice_form_edits_go_through_update_invoice(staff_client, make_invoice, make_customer, make_job):
    invoice = make_invoice("sent", total="120.00")
    page = url("invoice", "change", invoice.pk)
    assert "customer" not in staff_client.get(page).context["adminform"].form.fields  # read-only
    assert post_form(staff_client, page, total="130.00").status_code == 302  # a sent total may be corrected
    bobs_job = make_job(customer=make_customer("Bob Example"))
    assert form_errors(post_form(staff_client, page, job=bobs_job.pk)) == [
        "That job belongs to another customer."
    ]
    assert form_errors(post_form(staff_client, page, number="Q-99")) == [
        "Only a draft can be renumbered; this one is sent."
    ]
    services.mark_invoice_paid(invoice=invoice)
    assert form_errors(post_form(staff_client, page, total="1.00")) == [
        "An invoice that is paid keeps its total."
    ]
    invoice.refresh_from_db()
    assert (invoice.total, invoice.job, invoice.number) == (Decimal("130.00"), None, invoice.number)


def test_message_add_form_signs_with_the_staff_member(staff_client, staff, customer):
    data = {"customer": customer.pk, "direction": "to_customer", "body": "  Running ten minutes late  "}
    assert staff_client.post(url("message", "add"), data).status_code == 302
    message = Message.objects.get()
    assert (message.author, message.body) == (staff, "Running ten minutes late")


def test_message_form_reads_and_deletes_but_never_undoes(staff_client, customer, staff):
    message = services.post_message(customer=customer, body="Hello", author=staff)
    page = url("message", "change", message.pk)
    assert post_form(staff_client, page, is_read="on").status_code == 302
    message.refresh_from_db()
    assert message.read_at is not None
    data = change_form_data(staff_client.get(page))
    del data["is_read"]
    response = staff_client.post(page, data)
    assert form_errors(response) == ["A read message cannot be marked unread."]
    assert post_form(staff_client, page, is_deleted="on").status_code == 302
    message.refresh_from_db()
    assert message.deleted_at is not None


def test_loyalty_add_form_goes_through_the_balance_rule(staff_client, customer):
    add = url("loyaltytransaction", "add")
    row = {"customer": customer.pk, "description": "Free rug"}
    response = staff_client.post(add, {**row, "kind": "redeemed", "amount": "10"})
    assert form_errors(response) == ["Not enough points: 10 asked, 0 available."]
    assert staff_client.post(add, {**row, "kind": "bonus", "amount": "40"}).status_code == 302
    assert staff_client.post(add, {**row, "kind": "redeemed", "amount": "10"}).status_code == 302
    response = staff_client.post(add, {**row, "kind": "adjustment", "amount": "-31", "description": "Fix"})
    assert form_errors(response) == ["That would leave a negative balance."]
    assert sorted(customer.loyalty_transactions.values_list("points", flat=True)) == [-10, 40]
    assert customer.points_balance == 30


def test_loyalty_rows_are_read_only_once_written(staff_client, one_of_each):
    row = one_of_each["loyaltytransaction"]
    page = staff_client.get(url("loyaltytransaction", "change", row.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert (
        staff_client.post(url("loyaltytransaction", "change", row.pk), {"points": "999"}).status_code == 403
    )


def test_customer_form_routes_contact_details_and_preferences_through_services(staff_client, customer):
    page = url("customer", "change", customer.pk)
    prefs = json.dumps({**customer.preferences, "contact_channel": "sms"})
    response = post_form(staff_client, page, email="alice@new.example", preferences=prefs)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.email, customer.preferences["contact_channel"]) == ("alice@new.example", "sms")
    bad = json.dumps({"contact_channel": "pigeon"})
    assert form_errors(post_form(staff_client, page, preferences=bad)) == [
        "Unknown contact channel 'pigeon'."
    ]


def test_writing_to_a_customer_from_their_page(staff_client, customer, staff):
    page = url("customer", "change", customer.pk)
    response = post_form(
        staff_client, page, **{"messages-2-0-direction": "to_customer", "messages-2-0-body": "Hi!"}
    )
    assert response.status_code == 302
    assert list(Message.objects.values_list("customer", "author", "body")) == [(customer.pk, staff.pk, "Hi!")]


def test_an_over_long_message_from_the_customer_page_is_a_form_error(staff_client, customer):
    page = url("customer", "change", customer.pk)
    too_long = "x" * (services.MAX_MESSAGE_LENGTH + 1)
    response = post_form(
        staff_client, page, **{"messages-2-0-direction": "to_customer", "messages-2-0-body": too_long}
    )
    assert response.status_code == 200
    [formset] = [
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == "messages-2"
    ]
    assert formset.errors == [
        {"body": [f"Ensure this value has at most {services.MAX_MESSAGE_LENGTH} characters (it has 5001)."]}
    ]
    assert not Message.objects.exists()


def test_customer_add_form(staff_client):
    page = url("customer", "add")
    response = post_form(staff_client, page, name="Carol Example", email="carol@example.com")
    assert response.status_code == 302
    assert Customer.objects.get().name == "Carol Example"


def test_only_earned_or_bonus_points_refer_to_a_job(staff_client, customer, job):
    row = {"customer": customer.pk, "kind": "adjustment", "amount": "5", "description": "Fix", "job": job.pk}
    response = staff_client.post(url("loyaltytransaction", "add"), row)
    assert form_errors(response) == ["Only earned or bonus points refer to a job or an invoice."]
    response = staff_client.post(url("loyaltytransaction", "add"), {**row, "kind": "earned"})
    assert form_errors(response) == ["Points are earned once a job is completed; this one is scheduled."]
    services.complete_job(job=job, award_points=False)
    assert staff_client.post(url("loyaltytransaction", "add"), {**row, "kind": "earned"}).status_code == 302
    assert customer.loyalty_transactions.get().job == job


def test_a_superuser_creates_portal_logins(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    password = "Xk3-long-pass-99"
    data = {"username": "carol", "password1": password, "password2": password, "usable_password": "true"}
    assert client.post(reverse("admin:crm_user_add"), data).status_code == 302
    assert django_user_model.objects.get(username="carol").check_password(password)


def test_customer_preferences_are_labelled_checkboxes_not_json(staff_client, customer):
    page = url("customer", "change", customer.pk)
    html = staff_client.get(page).content.decode()
    for flag, label in (
        ("notify_appointments", "Notify about appointment updates"),
        ("notify_loyalty", "Notify about loyalty points"),
    ):
        assert f'<input type="checkbox" name="preferences_{flag}" id="id_preferences_{flag}" checked>' in html
        assert f'<label class="vCheckboxLabel" for="id_preferences_{flag}">{label}</label>' in html
    assert '<select name="preferences_contact_channel"' in html
    assert "<textarea" not in html.split('id="id_preferences"')[1].split("</fieldset>")[0]

    # Unticking one box saves that switch off and leaves the others on.
    data = change_form_data(staff_client.get(page))
    del data["preferences"]  # a browser posts the controls, as drawn, with one box unticked
    data.update(
        preferences_contact_channel="sms",
        preferences_notify_appointments="on",
        preferences_notify_invoices="on",
        preferences_notify_messages="on",
    )
    assert staff_client.post(page, data).status_code == 302
    customer.refresh_from_db()
    assert customer.preferences["notify_loyalty"] is False
    assert customer.preferences["notify_appointments"] is True
    assert customer.preferences["contact_channel"] == "sms"

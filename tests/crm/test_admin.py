"""The admin CRM: pages for staff (rights from the Staff group only), refusal for everyone else,
actions and change forms that go through the services and report their refusals."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.models import Customer, Invoice, Job, LoyaltyTransaction, Message
from tests.crm.conftest import change_form_data

pytestmark = pytest.mark.django_db

MODELS = ("customer", "job", "invoice", "message", "loyaltytransaction")


@pytest.fixture
def one_of_each(customer, job, make_invoice, staff):
    services.post_message(customer=customer, body="See you tomorrow", author=staff)
    services.award_points(customer=customer, points=25, bonus=True, description="Welcome bonus")
    make_invoice("sent")
    return {
        "customer": customer,
        "job": job,
        "invoice": Invoice.objects.get(),
        "message": Message.objects.get(),
        "loyaltytransaction": LoyaltyTransaction.objects.get(),
    }


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:crm_{model}_{view}", args=args)


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def run_action(client, model: str, action: str, objs) -> list[str]:
    response = client.post(
        url(model, "changelist"), {"action": action, "_selected_action": [o.pk for o in objs]}, follow=True
    )
    assert response.status_code == 200
    return texts(response)


# --- who gets in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_staff_pages_load(staff_client, one_of_each, model):
    obj = one_of_each[model]
    for page in (url(model, "changelist"), url(model, "add"), url(model, "change", obj.pk)):
        assert staff_client.get(page).status_code == 200, page
    # Search, filters and the date hierarchy are wired to real fields.
    response = staff_client.get(url(model, "changelist"), {"q": "Alice"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_customer_page_shows_the_whole_history_and_internal_notes(staff_client, one_of_each):
    customer, job = one_of_each["customer"], one_of_each["job"]
    Job.objects.filter(pk=job.pk).update(internal_notes="Gate code 4512")
    page = staff_client.get(url("customer", "change", customer.pk)).content.decode()
    for shown in (
        "Carpet cleaning",
        one_of_each["invoice"].number,
        "See you tomorrow",
        "Welcome bonus",
        "Gate code 4512",
    ):
        assert shown in page
    assert "Gate code 4512" in staff_client.get(url("job", "change", job.pk)).content.decode()


@pytest.mark.parametrize("who", ["anonymous", "portal customer", "inactive staff"])
def test_everyone_but_active_staff_is_sent_to_the_admin_login(client, customer, staff, who):
    if who == "portal customer":
        client.force_login(customer.portal_user)
    elif who == "inactive staff":
        staff.is_active = False
        staff.save()
        client.force_login(staff)
    for page in (
        reverse("admin:index"),
        url("customer", "changelist"),
        url("customer", "change", customer.pk),
    ):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_portal_customer_cannot_log_into_the_admin(client, customer):
    response = client.post(reverse("admin:login"), {"username": "alice", "password": "pw-for-tests"})
    assert response.status_code == 200  # the form again, with an error
    assert not response.wsgi_request.user.is_authenticated


def test_staff_group_holds_the_crm_permissions_but_not_user_management_or_hard_deletes(staff):
    for model in MODELS:
        for action in ("view", "add", "change"):
            assert staff.has_perm(f"crm.{action}_{model}")
    # History is voided, cancelled, adjusted or soft-deleted, not erased; a mistaken booking may go.
    assert [model for model in MODELS if staff.has_perm(f"crm.delete_{model}")] == ["job"]
    assert staff.has_perm("crm.view_user")
    assert not any(staff.has_perm(f"crm.{action}_user") for action in ("add", "change", "delete"))


def test_staff_group_migration_is_reproducible(staff):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    from crm.roles import STAFF_GROUP

    create = importlib.import_module("crm.migrations.0002_staff_group")
    restrict = importlib.import_module("crm.migrations.0003_staff_without_hard_deletes")
    group = Group.objects.get(name=STAFF_GROUP)
    expected = set(group.permissions.values_list("pk", flat=True))
    group.permissions.remove(Permission.objects.get(codename="view_job"))
    for _ in range(2):
        create.create_staff_group(apps, SimpleNamespace(connection=connection))
        restrict.apply_staff_policy(apps, SimpleNamespace(connection=connection))
    assert set(Group.objects.get(name=STAFF_GROUP).permissions.values_list("pk", flat=True)) == expected
    assert Group.objects.filter(name=STAFF_GROUP).count() == 1
    # Migrating back gives staff their hard deletes again.
    restrict.restore_hard_deletes(apps, SimpleNamespace(connection=connection))
    assert Group.objects.get(name=STAFF_GROUP).permissions.filter(codename="delete_invoice").exists()
    assert apps.get_app_config("crm").models_module is not None


def test_customer_changelist_query_count_does_not_grow_with_rows(
    staff_client, make_customer, django_assert_num_queries
):
    def add_customers(names):
        for name in names:
            customer = make_customer(f"{name} Example", login=name.lower())
            services.award_points(customer=customer, points=10, bonus=True)

    add_customers(["Ann", "Ben"])
    with CaptureQueriesContext(connection) as two:
        assert staff_client.get(url("customer", "changelist")).status_code == 200
    add_customers(["Cat", "Dan", "Eve", "Fay", "Gus", "Hal"])
    with django_assert_num_queries(len(two)):
        response = staff_client.get(url("customer", "changelist"))
    assert [c.balance for c in response.context["cl"].result_list] == [10] * 8


# --- actions --------------------------------------------------------------------------------------


def test_job_actions_walk_a_job_to_completion_and_award_points(staff_client, job, customer, settings):
    settings.LOYALTY_POINTS_PER_COMPLETED_JOB = 30
    steps = [
        ("mark_confirmed", "confirmed"),
        ("mark_en_route", "en_route"),
        ("mark_in_progress", "in_progress"),
    ]
    for action, status in steps:
        assert run_action(staff_client, "job", action, [job]) == [
            f"{job}: {Job.Status(status).label.lower()}."
        ]
        job.refresh_from_db()
        assert job.status == status
    run_action(staff_client, "job", "complete_jobs", [job])
    job.refresh_from_db()
    assert job.status == "completed"
    assert customer.points_balance == 30


def test_job_actions_report_each_refusal_and_go_on(staff_client, make_job):
    done, open_job = make_job(), make_job(days=2)
    services.complete_job(job=done)
    reported = run_action(staff_client, "job", "cancel_jobs", [done, open_job])
    assert f"{done}: This job is already completed." in reported
    assert f"{open_job}: cancelled." in reported
    assert Job.objects.get(pk=open_job.pk).status == "cancelled"
    assert Job.objects.get(pk=done.pk).status == "completed"


def test_invoice_actions(staff_client, make_invoice, past_due):
    draft, sent = make_invoice(), make_invoice("sent")
    reported = run_action(staff_client, "invoice", "send_invoices", [draft, sent])
    assert f"{draft}: sent." in reported
    assert f"{sent}: Only a draft can be sent; this one is sent." in reported
    run_action(staff_client, "invoice", "mark_invoices_overdue", [past_due])
    other_draft = make_invoice()
    reported = run_action(staff_client, "invoice", "mark_invoices_paid", [past_due, other_draft])
    assert sorted(reported) == sorted(
        [
            f"{past_due}: paid.",
            f"{other_draft}: Only a sent or overdue invoice can be paid; this one is draft.",
        ]
    )
    reported = run_action(staff_client, "invoice", "void_invoices", [past_due, draft])
    assert sorted(reported) == sorted([f"{past_due}: A paid invoice cannot be voided.", f"{draft}: voided."])
    statuses = dict(Invoice.objects.values_list("pk", "status"))
    assert (statuses[draft.pk], statuses[sent.pk], statuses[past_due.pk]) == ("void", "sent", "paid")


def test_message_actions(staff_client, customer, staff):
    message = services.post_message(customer=customer, body="Hello", author=staff)
    assert run_action(staff_client, "message", "mark_read", [message]) == [f"{message}: marked read."]
    assert run_action(staff_client, "message", "soft_delete", [message]) == [f"{message}: deleted."]
    message.refresh_from_db()
    assert message.read_at and message.deleted_at
    assert run_action(staff_client, "message", "soft_delete", [message]) == [
        f"{message}: That message is already deleted."
    ]


def test_staff_cannot_erase_history_but_can_delete_a_mistaken_booking(staff_client, one_of_each):
    for model in ("customer", "invoice", "message", "loyaltytransaction"):
        assert staff_client.get(url(model, "delete", one_of_each[model].pk)).status_code == 403
        assert 'value="delete_selected"' not in staff_client.get(url(model, "changelist")).content.decode()
    job = one_of_each["job"]
    assert staff_client.post(url("job", "delete", job.pk), {"post": "yes"}).status_code == 302
    assert not Job.objects.filter(pk=job.pk).exists()


def test_quick_bonus_action(staff_client, customer, make_customer):
    bob = make_customer("Bob Example")
    reported = run_action(staff_client, "customer", "award_quick_bonus", [customer, bob])
    assert reported == [f"{customer}: 50 bonus points awarded.", f"{bob}: 50 bonus points awarded."]
    assert customer.points_balance == bob.points_balance == 50


def test_points_actions_open_the_points_form_for_one_customer(staff_client, customer, make_customer):
    response = staff_client.post(
        url("customer", "changelist"), {"action": "adjust_points", "_selected_action": [customer.pk]}
    )
    assert response.status_code == 302
    form_page = staff_client.get(response["Location"])
    assert form_page.context["adminform"].form.initial == {"customer": str(customer.pk), "kind": "adjustment"}
    both = [customer, make_customer("Bob Example")]
    assert run_action(staff_client, "customer", "award_bonus_points", both) == [
        "Select exactly one customer."
    ]


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

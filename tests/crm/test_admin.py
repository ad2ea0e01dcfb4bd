"""The admin CRM: pages for staff (rights from the Staff group only), refusal for everyone else,
actions and change forms that go through the services and report their refusals."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import services
from crm.models import Invoice, Job
from tests.crm.admin_pages import run_action, url

pytestmark = pytest.mark.django_db

MODELS = ("customer", "job", "invoice", "message", "loyaltytransaction")


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

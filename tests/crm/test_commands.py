"""seed_demo (idempotent, documented logins) and mark_overdue_invoices."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer, Invoice, Job, LoyaltyTransaction, Message, User
from realtime.models import OutboxEvent

pytestmark = pytest.mark.django_db

MODELS = (User, Customer, Job, Invoice, Message, LoyaltyTransaction, OutboxEvent)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def logs_in(client, username: str, password: str) -> bool:
    """The test client's login, with a request as django-axes's backend requires of every login."""
    return client.login(request=HttpRequest(), username=username, password=password)


def snapshot() -> dict:
    """Every row of every model the seed touches, so "changes nothing" covers updates too."""
    return {model.__name__: sorted(model.objects.values_list()) for model in MODELS}


def test_seed_demo_twice_creates_and_changes_nothing_the_second_time():
    first = run("seed_demo")
    assert "Created staff user staff" in first
    assert "alice / alice-demo" in first
    assert "bob / bob-demo" in first
    before = snapshot()
    assert run("seed_demo") == "Demo data already exists; nothing changed.\n"
    assert snapshot() == before
    assert OutboxEvent.objects.exists()  # made through the services, so the realtime log has it


def test_seed_demo_logins(client):
    run("seed_demo")
    staff = User.objects.get(username="staff")
    assert staff.is_staff
    assert not staff.is_superuser
    assert list(staff.groups.values_list("name", flat=True)) == ["Staff"]
    assert logs_in(client, "staff", "staff-demo")
    assert client.get(reverse("admin:crm_customer_changelist")).status_code == 200
    for login in ("alice", "bob"):
        assert logs_in(client, login, f"{login}-demo")
        assert client.get(reverse("admin:index")).status_code == 302  # customers never reach the admin
        assert Customer.objects.get(portal_user__username=login)


@pytest.mark.parametrize("name", ["Alice Example", "Bob Example"])
def test_seed_demo_history_looks_real(name, settings):
    run("seed_demo")
    customer = Customer.objects.get(name=name)
    now = timezone.now()
    jobs = customer.jobs.all()
    assert {j.status for j in jobs if j.scheduled_start < now} == {"completed", "cancelled"}
    assert {j.status for j in jobs if j.scheduled_start > now} == {"scheduled", "confirmed"}
    assert sorted(customer.invoices.values_list("status", flat=True)) == [
        "draft",
        "overdue",
        "paid",
        "paid",
        "sent",
    ]
    overdue = customer.invoices.get(status="overdue")
    assert overdue.due_date < timezone.localdate()
    messages = customer.messages.all()
    assert {m.direction for m in messages} == {"to_customer", "to_staff"}
    assert any(m.read_at is None for m in messages)
    assert all(m.created_at <= now for m in messages)
    kinds = sorted(customer.loyalty_transactions.values_list("kind", flat=True))
    assert kinds == ["bonus", "earned", "earned", "earned", "earned", "redeemed"]
    assert customer.points_balance == 100 + 4 * settings.LOYALTY_POINTS_PER_COMPLETED_JOB - 80


def test_seed_demo_completes_a_customer_whose_login_exists(make_user, client):
    make_user("bob", password="other")  # a login without its customer: the customer is still made
    run("seed_demo")
    assert Customer.objects.get(portal_user__username="bob").jobs.count() == 7
    assert logs_in(client, "bob", "bob-demo")


def test_seed_demo_repairs_the_documented_logins(make_user, client):
    from django.contrib.auth.models import Group

    run("seed_demo")
    staff = User.objects.get(username="staff")
    staff.groups.clear()
    staff.is_staff, staff.is_superuser, staff.is_active = False, True, False
    staff.set_password("changed")
    staff.save()
    alice = User.objects.get(username="alice")
    alice.set_password("changed")
    alice.save()
    jobs_before = Job.objects.count()

    out = run("seed_demo")
    assert "Repaired staff user staff / staff-demo" in out
    assert "Repaired portal login alice / alice-demo" in out
    assert "bob" not in out
    staff.refresh_from_db()
    assert (staff.is_staff, staff.is_superuser, staff.is_active) == (True, False, True)
    assert list(staff.groups.all()) == [Group.objects.get(name="Staff")]
    assert logs_in(client, "staff", "staff-demo")
    assert logs_in(client, "alice", "alice-demo")
    assert Job.objects.count() == jobs_before  # repairs logins; the history is left as it is

    before = snapshot()
    assert run("seed_demo") == "Demo data already exists; nothing changed.\n"
    assert snapshot() == before


def test_seed_demo_history_was_booked_before_it_happened():
    run("seed_demo")
    now = timezone.now()
    for customer in Customer.objects.all():
        first_job = customer.jobs.order_by("scheduled_start").first()
        assert customer.created_at < first_job.created_at
        for job in customer.jobs.all():
            assert job.created_at <= now
            if job.scheduled_start < now:  # booked days ahead, not on the day the seed ran
                assert job.created_at <= job.scheduled_start - dt.timedelta(days=7)


def test_mark_overdue_invoices_command(past_due, make_invoice):
    current = make_invoice("sent")
    assert run("mark_overdue_invoices") == "Marked 1 invoice(s) overdue.\n"
    assert Invoice.objects.get(pk=past_due.pk).status == "overdue"
    assert Invoice.objects.get(pk=current.pk).status == "sent"
    assert run("mark_overdue_invoices") == "Marked 0 invoice(s) overdue.\n"

"""CRM fixtures: a staff member in the Staff group, rows in each state, an admin form helper."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm import services
from crm.models import Invoice, LoyaltyTransaction, Message


@pytest.fixture
def staff(make_user):
    """A staff member whose rights come only from the Staff group (as seed_demo sets them up)."""
    from django.contrib.auth.models import Group

    from crm.roles import STAFF_GROUP

    user = make_user("sam", staff=True, first_name="Sam")
    user.groups.add(Group.objects.get(name=STAFF_GROUP))
    return user


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def customer(make_customer):
    return make_customer("Alice Example", login="alice", address="12 Elm Street")


@pytest.fixture
def make_job(customer, tomorrow_window):
    def make(days: int = 1, **fields):
        start, end = tomorrow_window(days=days)
        fields.setdefault("customer", customer)
        fields.setdefault("service_type", "Carpet cleaning")
        return services.schedule_job(start=start, end=end, **fields)

    return make


@pytest.fixture
def job(make_job):
    return make_job()


@pytest.fixture
def make_invoice(customer):
    """An invoice in the given status, reached through the services as staff would."""
    from crm.models import Invoice

    def make(status: str = Invoice.Status.DRAFT, *, total: str = "120.00", on=None):
        invoice = services.create_invoice(customer=on or customer, total=Decimal(total))
        if status == Invoice.Status.DRAFT:
            return invoice
        invoice = services.send_invoice(invoice=invoice)
        if status == Invoice.Status.PAID:
            return services.mark_invoice_paid(invoice=invoice)
        if status == Invoice.Status.OVERDUE:
            return services.mark_invoice_overdue(
                invoice=invoice, today=invoice.due_date + dt.timedelta(days=1)
            )
        if status == Invoice.Status.VOID:
            return services.void_invoice(invoice=invoice)
        return invoice

    return make


@pytest.fixture
def past_due(customer):
    """A sent invoice whose due date has passed (sending refuses a past date, so it is moved back)."""
    from crm.models import Invoice

    invoice = services.send_invoice(invoice=services.create_invoice(customer=customer, total="80"))
    Invoice.objects.filter(pk=invoice.pk).update(due_date=timezone.localdate() - dt.timedelta(days=3))
    invoice.refresh_from_db()
    return invoice


def change_form_data(response) -> dict:
    """The POST body that saves an admin add/change page unchanged (edit the dict, then post it).

    A change form also carries what it showed of each field (`initial-<name>`), as a browser posts it.
    """
    data: dict = {}
    form = response.context["adminform"].form

    def put(name: str, value, *, hidden: bool = False) -> None:
        if isinstance(value, dt.datetime):  # the admin's split date and time widget
            value = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = value.date().isoformat(), value.time().isoformat()
        elif isinstance(value, bool) and not hidden:
            if value:
                data[name] = "on"
        elif value is not None or hidden:  # a browser posts a hidden input, empty or not
            data[name] = "" if value is None else value

    for name in form.fields:
        put(name, form[name].value())
        if form.fields[name].show_hidden_initial:
            put(form[name].html_initial_name, form[name].value(), hidden=True)
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{inline.formset.prefix}-{name}"] = management[name].value()
    return data


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

"""The printable invoice page: the owner's figures and the business's details, nobody else's
invoice and never a draft, linked from every invoice row (live rows too), in few queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import services
from realtime.models import OutboxEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]


def text(html: str, name: str) -> str:
    """The words of the element with `data-field=name`, tags stripped."""
    match = re.search(rf'<(\w+)[^>]*\bdata-field="{name}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no [data-field={name}]"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())


@pytest.fixture
def job_invoice(alice):
    """A sent invoice for Alice's appointment, due in ten days."""
    job = alice.jobs.get()
    invoice = services.create_invoice(customer=alice, total="180.00", job=job)
    return services.send_invoice(invoice=invoice, due_date=timezone.localdate() + dt.timedelta(days=10))


def test_the_owner_sees_the_invoice_with_its_figures_dates_job_and_the_business(
    client_for, alice, job_invoice, settings
):
    settings.BUSINESS_NAME = "Spotless & Sons"
    settings.BUSINESS_ADDRESS = "4 Quay Road\nHarbour Town"
    response = client_for(alice).get(reverse("portal:invoice", args=[job_invoice.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<title>Invoice {job_invoice.number} · " in html
    assert text(html, "number") == job_invoice.number
    assert text(html, "status") == "Sent"
    assert text(html, "total") == "$180.00" and text(html, "amount-due") == "$180.00"
    assert text(html, "sent-at") == f"{job_invoice.sent_at:%-d %b %Y}"
    assert text(html, "due-date") == f"{job_invoice.due_date:%-d %b %Y}"
    assert text(html, "paid-at") == "—"
    job = job_invoice.job
    assert text(html, "job").startswith(
        f"Carpet cleaning Appointment on {job.scheduled_start:%a %-d %b %Y, %H:%M} UTC"
    )
    assert "Spotless &amp; Sons" in html and "4 Quay Road<br>Harbour Town" in html  # from settings, escaped
    assert text(html, "customer") == "Alice Example 1 Main St alice@example.com"
    assert re.search(r'<button type="button" class="button" data-print hidden>', html)  # print.js shows it


def test_a_paid_invoice_shows_nothing_due_and_when_it_was_paid(client_for, alice, job_invoice):
    services.mark_invoice_paid(invoice=job_invoice)
    job_invoice.refresh_from_db()
    html = client_for(alice).get(reverse("portal:invoice", args=[job_invoice.pk])).content.decode()
    assert text(html, "status") == "Paid" and text(html, "amount-due") == "$0.00"
    assert text(html, "total") == "$180.00"
    assert text(html, "paid-at") == f"{job_invoice.paid_at:%-d %b %Y}" and "Thank you!" in html


def test_a_void_invoice_is_shown_with_nothing_due(client_for, alice):
    invoice = services.void_invoice(invoice=alice.invoices.get())
    html = client_for(alice).get(reverse("portal:invoice", args=[invoice.pk])).content.decode()
    assert text(html, "status") == "Void" and text(html, "amount-due") == "$0.00"
    assert text(html, "job") == "Services"  # an invoice with no job


def test_another_customers_invoice_a_draft_or_no_invoice_is_a_404(client_for, alice, bob, job_invoice):
    draft = services.create_invoice(customer=alice, total="99.00")
    assert client_for(bob).get(reverse("portal:invoice", args=[job_invoice.pk])).status_code == 404
    client = client_for(alice)
    response = client.get(reverse("portal:invoice", args=[draft.pk]))
    assert response.status_code == 404 and draft.number.encode() not in response.content
    assert client.get(reverse("portal:invoice", args=[999999])).status_code == 404


def test_anonymous_go_to_login_and_staff_to_the_admin(client, make_user, job_invoice):
    url = reverse("portal:invoice", args=[job_invoice.pk])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))
    client.force_login(make_user("sam", staff=True))
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_the_page_is_a_document_without_a_socket(client_for, alice, job_invoice):
    response = client_for(alice).get(reverse("portal:invoice", args=[job_invoice.pk]))
    html = response.content.decode()
    assert "data-topics" not in html and "realtime/realtime.js" not in html
    assert "data-connection-status" not in html  # no socket, so no connection badge
    current = html.split('aria-current="page">')[1].split("</a>")[0]
    assert '<span class="nav-label">Invoices</span>' in current
    assert client_for(alice).head(reverse("portal:invoice", args=[job_invoice.pk])).status_code == 200


def test_the_invoice_page_query_count(client_for, alice, job_invoice, django_assert_num_queries):
    client = client_for(alice)
    url = reverse("portal:invoice", args=[job_invoice.pk])
    client.get(url)
    # session, user, customer id; the consistent read's SAVEPOINT (in the test's transaction),
    # seq, the invoice with its job, the customer, the nav's unread count and points, RELEASE.
    with django_assert_num_queries(10):
        assert client.get(url).status_code == 200


def test_every_invoice_row_links_to_its_page_on_the_page_and_when_live(client_for, alice, job_invoice):
    client = client_for(alice)
    link = (
        f'<a class="row-link" href="{reverse("portal:invoice", args=[job_invoice.pk])}" data-link="document">'
    )
    html = client.get(reverse("portal:invoices")).content.decode()
    assert link + f'Invoice <span class="nowrap">{job_invoice.number}</span></a>' in html
    before = (
        OutboxEvent.objects.filter(customer_id=alice.pk).order_by("-seq").values_list("seq", flat=True)[0]
    )
    services.mark_invoice_paid(invoice=job_invoice)
    seqs = OutboxEvent.objects.filter(customer_id=alice.pk, seq__gt=before).values_list("seq", flat=True)
    live = client.post(reverse("portal:live"), {"seqs": ",".join(map(str, seqs))}).content.decode()
    row = live.split(f'<li id="invoice-{job_invoice.pk}"', 1)[1].split("</li>", 1)[0]
    assert link in row and 'data-field="status">Paid<' in row

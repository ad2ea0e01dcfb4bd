from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crm import services
from realtime import sequence

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]

PAGES = {
    "dashboard": "jobs invoices messages loyalty profile",
    "appointments": "jobs",
    "invoices": "invoices",
    "messages": "messages",
    "loyalty": "loyalty",
    "profile": "profile",
}


def body_attr(html: str, name: str) -> str:
    match = re.search(rf'<body[^>]*\s{name}="([^"]*)"', html)
    assert match, f"<body> has no {name}"
    return match.group(1)


@pytest.mark.parametrize(("name", "topics"), PAGES.items())
def test_page_renders_for_its_customer_with_the_seq_and_topics(client_for, alice, name, topics):
    response = client_for(alice).get(reverse(f"portal:{name}"))
    assert response.status_code == 200
    html = response.content.decode()
    assert int(body_attr(html, "data-seq")) == sequence.current(alice.pk)[0]
    assert body_attr(html, "data-topics") == topics
    assert 'data-variant="badge"' in html  # the header badge on every page
    assert 'id="toasts"' in html and 'aria-live="polite"' in html


def test_dashboard_shows_every_section_and_counters(client_for, alice):
    html = client_for(alice).get(reverse("portal:dashboard")).content.decode()
    job, invoice = alice.jobs.get(), alice.invoices.get()
    message, entry = alice.messages.get(), alice.loyalty_transactions.get()
    for row_id in (f"job-{job.pk}", f"invoice-{invoice.pk}", f"message-{message.pk}", f"loyalty-{entry.pk}"):
        assert f'id="{row_id}"' in html
    assert re.search(r'id="unread-count"[^>]*>1<', html)
    assert re.search(r'id="points-balance"[^>]*>120<', html)
    assert 'id="subscription-status"' in html and "/5 active" in html


def test_appointments_split_upcoming_and_past(client_for, alice):
    job = alice.jobs.get()
    services.complete_job(job=job)
    html = client_for(alice).get(reverse("portal:appointments")).content.decode()
    past = html.split('id="jobs-past"', 1)[1]
    assert f'id="job-{job.pk}"' in past
    assert 'data-field="status">Completed<' in past


def test_invoice_row_shows_amount_status_and_due_date_but_never_drafts(client_for, alice):
    draft = services.create_invoice(customer=alice, total="99.00")
    html = client_for(alice).get(reverse("portal:invoices")).content.decode()
    sent = alice.invoices.get(status="sent")
    row = html.split(f'id="invoice-{sent.pk}"', 1)[1].split("</li>", 1)[0]
    assert "$120.50" in row and 'data-field="status">Sent<' in row
    assert sent.due_date.strftime("%-d %b %Y") in row
    assert f'id="invoice-{draft.pk}"' not in html and draft.number not in html


def test_a_customer_never_sees_another_customers_rows(client_for, alice, bob):
    html = client_for(bob).get(reverse("portal:dashboard")).content.decode()
    assert "Hello from the team" not in html and "Carpet cleaning" not in html
    assert f'id="job-{alice.jobs.get().pk}"' not in html


def test_user_data_is_escaped(client_for, alice):
    services.post_message(customer=alice, body="<script>alert(1)</script>", author=None)
    html = client_for(alice).get(reverse("portal:messages")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_users_go_to_login(client, name):
    response = client.get(reverse(f"portal:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


@pytest.mark.parametrize("name", PAGES)
def test_staff_are_sent_to_the_admin(client, make_user, name):
    client.force_login(make_user("sam", staff=True))
    response = client.get(reverse(f"portal:{name}"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_a_login_without_a_customer_gets_a_clear_403(client, make_user):
    client.force_login(make_user("nobody"))
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 403
    assert b"not linked to a customer account" in response.content


def test_login_form_and_logout(client, alice):
    html = client.get(reverse("portal:login")).content.decode()
    assert 'name="username"' in html and 'name="password"' in html and 'type="submit"' in html
    response = client.post(reverse("portal:login"), {"username": "alice", "password": "pw-for-tests"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:dashboard")
    assert client.get(reverse("portal:dashboard")).status_code == 200
    response = client.post(reverse("portal:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:login")
    assert client.get(reverse("portal:dashboard")).status_code == 302


def test_components_page_is_for_staff_or_debug(client, settings, make_user):
    settings.DEBUG = False
    assert client.get(reverse("portal:components")).status_code == 403
    client.force_login(make_user("sam", staff=True))
    html = client.get(reverse("portal:components")).content.decode()
    for state in ("connecting", "live", "reconnecting", "offline", "error"):
        assert f'data-state="{state}"' in html
    assert html.count("data-toast-type=") >= 5


def _add_rows(customer, tomorrow_window, n):
    for day in range(n):
        start, end = tomorrow_window(days=day + 2)
        services.schedule_job(customer=customer, service_type=f"Clean {day}", start=start, end=end)
        services.send_invoice(invoice=services.create_invoice(customer=customer, total="10"))
        services.post_message(customer=customer, body=f"note {day}", author=None)
        services.award_points(customer=customer, points=5, description=f"p {day}")


@pytest.mark.parametrize("name", PAGES)
def test_page_queries_do_not_grow_with_rows(
    client_for, alice, tomorrow_window, django_assert_max_num_queries, name
):
    client = client_for(alice)
    url = reverse(f"portal:{name}")
    client.get(url)  # warm the session and the serializer caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _add_rows(alice, tomorrow_window, 6)
    with django_assert_max_num_queries(len(few)):
        client.get(url)


def test_dashboard_query_count(client_for, alice, django_assert_num_queries):
    client = client_for(alice)
    client.get(reverse("portal:dashboard"))
    # session, user, customer id; SET TRANSACTION, seq; jobs x2, invoices, messages, unread,
    # loyalty, balance, customer; SAVEPOINT-free atomic block: BEGIN/COMMIT are not queries.
    with django_assert_num_queries(14):
        client.get(reverse("portal:dashboard"))

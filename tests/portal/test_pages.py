from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crm import services
from realtime import sequence

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]

PAGES = {
    "dashboard": "jobs invoices messages loyalty profile requests",
    "appointments": "jobs requests",
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
    assert 'id="subscription-status"' in html and "/6 active" in html


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
    # loyalty, balance, customer; the upcoming jobs' requests (one prefetch, not one per job);
    # SAVEPOINT-free atomic block: BEGIN/COMMIT are not queries; the header bell's count.
    with django_assert_num_queries(16):
        client.get(reverse("portal:dashboard"))


@pytest.mark.parametrize("name", PAGES)
def test_pages_answer_head(client_for, alice, name):
    response = client_for(alice).head(reverse(f"portal:{name}"))
    assert response.status_code == 200 and response.content == b""


def test_invoices_page_shows_the_amount_due(client_for, alice):
    services.send_invoice(invoice=services.create_invoice(customer=alice, total="30.00"))
    html = client_for(alice).get(reverse("portal:invoices")).content.decode()
    assert re.search(r'id="amount-due"[^>]*>\$150\.50<', html)


def test_every_page_shows_the_unread_count_in_the_nav_and_the_time_zone(client_for, alice):
    html = client_for(alice).get(reverse("portal:appointments")).content.decode()
    assert re.search(r'id="nav-unread-count" class="nav-count">1<span class="visually-hidden"> unread', html)
    assert "Times are shown in UTC." in html
    services.mark_message_read(message=alice.messages.get())
    html = client_for(alice).get(reverse("portal:appointments")).content.decode()
    assert 'id="nav-unread-count" class="nav-count" hidden>0<' in html


def _send_invoices(customer, n):
    return [
        services.send_invoice(invoice=services.create_invoice(customer=customer, total=f"{k}.00"))
        for k in range(n)
    ]


def test_long_lists_show_the_latest_page_and_show_older_brings_the_rest(client_for, alice):
    invoices = [alice.invoices.get(), *_send_invoices(alice, 11)]  # 12, newest last
    client = client_for(alice)
    html = client.get(reverse("portal:invoices")).content.decode()
    shown = re.findall(r'<li id="invoice-(\d+)"', html)
    assert shown == [str(i.pk) for i in reversed(invoices)][:10]
    control = re.search(r'<button [^>]*hx-get="([^"]+)"[^>]*>Show older</button>', html)
    assert control, "no Show older control"
    older = client.get(control.group(1).replace("&amp;", "&")).content.decode()
    assert re.findall(r'<li id="invoice-(\d+)"', older) == [str(invoices[1].pk), str(invoices[0].pk)]
    assert '<hx-upsert hx-target="#invoice-list" key="data-sort-key" sort="desc">' in older
    # The last page: the control is swapped for an empty one.
    assert re.search(r'<div id="invoice-list-older" class="load-older" hx-swap-oob="true"></div>', older)


def test_the_thread_shows_the_latest_messages_oldest_first(client_for, alice):
    for n in range(21):
        services.post_message(customer=alice, body=f"update {n}", author=None)
    html = client_for(alice).get(reverse("portal:messages")).content.decode()
    bodies = re.findall(r'<p class="message-body">([^<]+)</p>', html)
    assert bodies == [f"update {n}" for n in range(1, 21)]
    assert "Show older" in html.split('id="message-list"', 1)[0]  # above the thread


def test_show_older_is_per_customer_and_checks_its_cursor(client_for, alice, bob):
    _send_invoices(alice, 11)
    client = client_for(alice)
    control = re.search(r'hx-get="([^"]+)"', client.get(reverse("portal:invoices")).content.decode())
    url = control.group(1).replace("&amp;", "&")
    html = client_for(bob).get(url).content.decode()
    assert "<li" not in html  # Bob has no invoices, whatever the cursor says
    client = client_for(alice)
    invoices_url, jobs_url = (
        reverse("portal:older", args=["invoice-list"]),
        reverse("portal:older", args=["jobs-past"]),
    )
    assert client.get(f"{invoices_url}?before=yesterday&id=1").status_code == 400
    # Out of range for the database (a bigint, a timestamp): 400, not a DataError and a 500.
    assert client.get(f"{invoices_url}?before=2026-01-01T00:00:00%2B00:00&id={2**63}").status_code == 400
    assert client.get(f"{invoices_url}?before=9999-12-31T23:59:59-14:00&id=1").status_code == 400
    assert client.get(f"{jobs_url}?{url.split('?', 1)[1]}").status_code == 404


def test_a_dashboard_section_is_what_the_dashboard_shows_now(client_for, alice, bob, tomorrow_window):
    for day in range(6):
        start, end = tomorrow_window(days=day + 2)
        services.schedule_job(customer=alice, service_type=f"Clean {day}", start=start, end=end)
    client = client_for(alice)
    first = alice.jobs.order_by("scheduled_start").first()
    services.cancel_job(job=first)
    html = client.get(reverse("portal:dashboard_section", args=["jobs-upcoming"])).content.decode()
    assert len(re.findall(r'<li id="job-', html)) == 5 and f'id="job-{first.pk}"' not in html
    bobs = client_for(bob).get(reverse("portal:dashboard_section", args=["jobs-upcoming"]))
    assert "<li" not in bobs.content.decode()
    assert client_for(alice).get(reverse("portal:dashboard_section", args=["nope"])).status_code == 404


def test_logging_out_lands_on_the_plain_login_page_with_a_notice(client, alice):
    client.force_login(alice.portal_user)
    response = client.post(reverse("portal:logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:login")
    assert "You have been logged out." in response.content.decode()


def test_a_login_page_with_next_leaves_the_notice_for_the_tab_that_logged_out(client, alice):
    client.force_login(alice.portal_user)
    client.post(reverse("portal:logout"))
    # Another tab, sent here by its socket's 4401, loads first: it must not take the notice.
    other = client.get(reverse("portal:login") + "?next=/portal/messages/").content.decode()
    assert "logged out" not in other
    assert "You have been logged out." in client.get(reverse("portal:login")).content.decode()

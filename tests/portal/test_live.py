from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crm import services
from realtime.models import OutboxEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]


def seqs_of(customer, after: int = 0) -> str:
    seqs = OutboxEvent.objects.filter(customer_id=customer.pk, seq__gt=after).values_list("seq", flat=True)
    return ",".join(str(seq) for seq in seqs)


def last_seq(customer) -> int:
    return (
        OutboxEvent.objects.filter(customer_id=customer.pk).order_by("-seq").values_list("seq", flat=True)[0]
    )


def live(client, seqs: str):
    return client.post(reverse("portal:live"), {"seqs": seqs})


def test_status_change_renders_the_row_in_its_new_list_and_one_toast(client_for, alice):
    client = client_for(alice)
    before = last_seq(alice)
    job = services.complete_job(job=alice.jobs.get())
    html = live(client, seqs_of(alice, before)).content.decode()
    # Old row out, current row upserted into the past list; with the points earned with it.
    assert f'<div id="job-{job.pk}" hx-swap-oob="delete">' in html
    assert 'hx-target="#jobs-past"' in html and 'data-field="status">Completed<' in html
    assert 'id="points-balance" class="balance-value" hx-swap-oob="true">170<' in html
    assert html.count('class="toast ') == 1
    assert 'data-toast-type="job"' in html and "You earned 50 points." in html


def test_a_customer_gets_nothing_of_another_customers_seqs(client_for, alice, bob):
    services.mark_invoice_paid(invoice=alice.invoices.get())
    response = live(client_for(bob), seqs_of(alice))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Hello from the team" not in html and "Carpet cleaning" not in html and "toast" not in html
    for row in (f"job-{alice.jobs.get().pk}", f"invoice-{alice.invoices.get().pk}"):
        assert row not in html


def test_invisible_records_leave_as_deletes_only(client_for, alice):
    client = client_for(alice)
    message = alice.messages.get()
    before = last_seq(alice)
    services.delete_message(message=message)
    html = live(client, seqs_of(alice, before)).content.decode()
    assert f'<div id="message-{message.pk}" hx-swap-oob="delete">' in html
    assert "hx-upsert" not in html and "Hello from the team" not in html
    assert 'id="unread-count" class="count-pill count-pill--zero" hx-swap-oob="true">0<' in html


def test_applying_a_batch_twice_gives_the_same_fragments(client_for, alice):
    client = client_for(alice)
    services.mark_invoice_paid(invoice=alice.invoices.get())
    seqs = seqs_of(alice)

    def fragments() -> str:  # CSRF tokens are masked afresh on each render
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", live(client, seqs).content.decode())

    assert fragments() == fragments()


def test_profile_change_updates_the_fields(client_for, alice):
    client = client_for(alice)
    before = last_seq(alice)
    services.update_contact_details(customer=alice, phone="+1 555 0199", address="2 <b>High</b> St")
    html = live(client, seqs_of(alice, before)).content.decode()
    assert '<dd id="profile-phone">+1 555 0199</dd>' in html
    assert '<dd id="profile-address">2 &lt;b&gt;High&lt;/b&gt; St</dd>' in html
    assert "toast" not in html  # the customer's details changing is not worth interrupting for


@pytest.mark.parametrize("seqs", ["abc", "1,-2", "1;2"])
def test_bad_seqs_are_refused(client_for, alice, seqs):
    assert live(client_for(alice), seqs).status_code == 400


def test_live_needs_a_customer_login(client, make_user):
    assert live(client, "1").status_code == 302
    client.force_login(make_user("sam", staff=True))
    assert live(client, "1").status_code == 302  # staff: to the admin, nothing rendered


def test_live_query_count_does_not_grow_with_the_batch(
    client_for, alice, tomorrow_window, django_assert_max_num_queries
):
    client = client_for(alice)
    before = last_seq(alice)
    services.post_message(customer=alice, body="one", author=None)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        live(client, seqs_of(alice, before))
    for n in range(10):
        start, end = tomorrow_window(days=n + 3)
        services.schedule_job(customer=alice, service_type=f"Job {n}", start=start, end=end)
        services.post_message(customer=alice, body=f"m {n}", author=None)
        services.award_points(customer=alice, points=1, description="x")
    with django_assert_max_num_queries(len(one) + 4):  # + the jobs and loyalty topics' reads
        live(client, seqs_of(alice, before))


def test_profile_change_brings_the_names_and_the_forms_to_merge(client_for, alice):
    client = client_for(alice)
    before = last_seq(alice)
    services.update_contact_details(customer=alice, name="Alice Cooper", phone="+1 555 0199")
    html = live(client, seqs_of(alice, before)).content.decode()
    for element_id in ("header-customer-name", "greeting-name"):
        assert re.search(rf'<span id="{element_id}"[^>]* hx-swap-oob="true">Alice Cooper</span>', html)
    form = html.split('<form id="profile-form"', 1)[1].split("</form>", 1)[0]
    assert "data-merge-live" in form and 'hx-swap-oob="true"' in form
    assert 'name="phone" value="+1 555 0199"' in form
    assert 'name="initial-phone" value="+1 555 0199"' in form  # what a save compares with
    assert '<form id="preferences-form"' in html


def test_message_and_invoice_changes_update_the_nav_count_and_the_amount_due(client_for, alice):
    client = client_for(alice)
    before = last_seq(alice)
    services.post_message(customer=alice, body="two", author=None)
    services.mark_invoice_paid(invoice=alice.invoices.get())
    html = live(client, seqs_of(alice, before)).content.decode()
    assert re.search(r'<span id="nav-unread-count" class="nav-count" hx-swap-oob="true">2<', html)
    assert '<span id="amount-due" class="amount-due-value" hx-swap-oob="true">$0.00</span>' in html


def test_the_customers_own_redemption_is_quiet_but_staffs_toasts(client_for, alice):
    client = client_for(alice)
    before = last_seq(alice)
    response = client.post(reverse("portal:redeem"), {"points": "20"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    html = live(client, seqs_of(alice, before)).content.decode()
    assert f'id="loyalty-{response.json()["id"]}"' in html and "toast" not in html
    before = last_seq(alice)
    services.redeem_points(customer=alice, points=20, description="By phone")
    html = live(client, seqs_of(alice, before)).content.decode()
    assert html.count('class="toast ') == 1 and "Points redeemed" in html


def test_the_open_feed_gets_its_new_entries_and_they_count_as_seen(client_for, alice):
    client = client_for(alice)
    client.get(reverse("portal:updates"))  # opening the feed marks what is there as seen
    before = last_seq(alice)
    services.post_message(customer=alice, body="Your technician is on the way", author=None)
    services.update_contact_details(customer=alice, phone="555-0100")  # not significant: no entry
    seqs = seqs_of(alice, before)

    elsewhere = live(client, seqs).content.decode()  # another page: no feed, the bell counts it
    assert 'hx-target="#updates-list"' not in elsewhere and 'data-count="1"' in elsewhere
    alice.refresh_from_db()
    assert alice.updates_seen_seq <= before

    html = client.post(reverse("portal:live"), {"seqs": seqs, "feed": "1"}).content.decode()
    message_seq = before + 1
    assert 'hx-upsert hx-target="#updates-list"' in html
    assert f'id="update-{message_seq}"' in html and "Your technician is on the way" in html
    assert html.count('class="row feed-entry') == 1 and "badge--new" in html
    alice.refresh_from_db()
    assert alice.updates_seen_seq == message_seq
    assert 'data-count="0"' in html and re.search(r"data-bell-count hidden", html)

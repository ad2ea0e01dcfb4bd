"""The staff inbox page and its actions over HTTP: who may see and act, what they see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm import services
from crm.models import InboxItem, Message

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def asked(customer, job):
    services.customer_message(customer=customer, body="Is 9 too early?", author=customer.portal_user)
    moment = (timezone.now() + dt.timedelta(days=5)).replace(microsecond=0)
    return services.request_change(customer=customer, job=job, kind="reschedule", preferred_times=[moment])


def test_the_inbox_is_an_admin_page_with_the_open_items_and_a_header_count(staff_client, asked):
    page = staff_client.get("/admin/inbox/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="nav-sidebar"' in html and "Staff inbox" in html  # the admin's own frame
    assert html.count('class="staff-inbox-item') == 2
    assert "Is 9 too early?" in html and "Alice Example asks to move Carpet cleaning" in html
    assert 'data-open-count="2"' in html and 'data-staff-seq="2"' in html
    conversation = staff_client.get(
        f"/admin/crm/message/?customer={asked.customer_id}"
    )  # "Open conversation"
    assert conversation.status_code == 200 and "Is 9 too early?" in conversation.content.decode()
    index = staff_client.get("/admin/").content.decode()
    assert 'id="staff-inbox-module"' in index and 'data-open-count="2"' in index


def test_actions_mark_handled_reply_and_answer_requests(staff_client, staff, asked, customer):
    message_item = InboxItem.objects.get(kind="message")
    replied = staff_client.post(
        f"/admin/inbox/items/{message_item.pk}/reply/", {"body": "Not at all"}, **JSON
    )
    assert replied.json() == {"ok": True, "notice": "Reply sent to Alice Example."}
    assert Message.objects.filter(customer=customer, body="Not at all", author=staff).exists()
    again = staff_client.post(f"/admin/inbox/items/{message_item.pk}/handle/", **JSON)
    assert (again.status_code, again.json()) == (422, {"error": "This item was already handled by sam."})

    request_item = InboxItem.objects.get(kind="request")
    start = asked.preferred_times[0]
    accepted = staff_client.post(f"/admin/inbox/items/{request_item.pk}/accept/", {"start": start}, **JSON)
    assert accepted.status_code == 200, accepted.content
    asked.refresh_from_db()
    assert asked.status == "accepted" and asked.job.scheduled_start.isoformat() == start
    assert not InboxItem.objects.filter(handled_at__isnull=True).exists()
    assert staff_client.post(f"/admin/inbox/items/{request_item.pk}/frobnicate/", **JSON).status_code == 404


def test_without_view_customer_there_is_no_inbox_and_no_count(client, make_user, asked):
    clerk = make_user("clerk", staff=True, perms=["crm.view_job"])
    client.force_login(clerk)
    assert client.get("/admin/inbox/").status_code == 403
    item = InboxItem.objects.first()
    assert client.post(f"/admin/inbox/items/{item.pk}/handle/", **JSON).status_code == 403
    assert "staff-inbox-link" not in client.get("/admin/").content.decode()
    assert InboxItem.objects.filter(handled_at__isnull=True).count() == 2


def test_answering_a_request_needs_the_right_to_change_jobs(client, make_user, asked):
    viewer = make_user("viewer", staff=True, perms=["crm.view_customer"])
    client.force_login(viewer)
    item = InboxItem.objects.get(kind="request")
    assert client.post(f"/admin/inbox/items/{item.pk}/decline/", {"reply": "No"}, **JSON).status_code == 403
    handled = client.post(f"/admin/inbox/items/{item.pk}/handle/", **JSON)
    assert (handled.status_code, handled.json()["error"]) == (
        422,
        "Accept or decline the request: the customer is waiting for the answer.",
    )
    asked.refresh_from_db()
    item.refresh_from_db()
    assert asked.status == "pending" and item.handled_at is None

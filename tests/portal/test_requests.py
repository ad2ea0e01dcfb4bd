"""Appointment requests from the portal: asking, seeing the answer live, and never seeing or
touching another customer's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import notifications, services
from crm.models import AppointmentRequest, InboxItem, Job
from realtime.models import OutboxEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]


def _local_input(days: int) -> str:
    moment = timezone.localtime() + dt.timedelta(days=days)
    return moment.strftime("%Y-%m-%dT10:00")


def test_asking_to_move_files_a_request_and_shows_it_on_the_appointment(client_for, alice, json_headers):
    job = alice.jobs.get()
    client = client_for(alice)
    response = client.post(
        reverse("portal:request_change", args=[job.pk]),
        {"kind": "reschedule", "preferred_1": _local_input(4), "note": "Mornings"},
        **json_headers,
    )
    assert response.status_code == 200, response.content
    request = AppointmentRequest.objects.get(pk=response.json()["id"])
    assert (request.customer, request.job, request.kind, request.note) == (
        alice,
        job,
        "reschedule",
        "Mornings",
    )
    assert InboxItem.objects.filter(request=request, kind="request").exists()
    event = OutboxEvent.objects.filter(customer_id=alice.pk).latest("seq")
    assert (event.topic, event.event) == ("requests", "request.created")
    page = client.get(reverse("portal:appointments")).content.decode()
    assert f'id="job-{job.pk}-request" data-request-status="pending"' in page
    assert "Waiting for an answer" in page and "Ask to move or cancel" not in page  # one at a time


def test_a_refused_request_says_why(client_for, alice, json_headers):
    job = alice.jobs.get()
    response = client_for(alice).post(
        reverse("portal:request_change", args=[job.pk]), {"kind": "reschedule"}, **json_headers
    )
    assert response.status_code == 422
    assert response.json()["error"] == "Give at least one time that would suit you."
    assert not AppointmentRequest.objects.exists()


def test_no_customer_can_ask_about_or_read_another_customers_requests(client_for, alice, bob, json_headers):
    start = timezone.now() + dt.timedelta(days=2)
    bobs_job = services.schedule_job(
        customer=bob, service_type="Bob's rug", start=start, end=start + dt.timedelta(hours=1)
    )
    services.request_change(customer=bob, job=bobs_job, kind="cancel", note="Bob's secret note")
    client = client_for(alice)

    response = client.post(
        reverse("portal:request_change", args=[bobs_job.pk]), {"kind": "cancel"}, **json_headers
    )
    assert response.status_code == 422
    assert response.json()["error"] == "That appointment is not in your account."
    assert AppointmentRequest.objects.filter(job=bobs_job).count() == 1

    listing = client.get("/api/portal/requests/")
    assert listing.status_code == 200 and listing.json()["results"] == []
    assert client.get("/api/portal/requests/", {"customer": bob.pk}).status_code == 403
    for page in ("portal:appointments", "portal:dashboard"):
        assert "Bob's secret note" not in client.get(reverse(page)).content.decode()
    bobs_seqs = OutboxEvent.objects.filter(customer_id=bob.pk).values_list("seq", flat=True)
    live = client.post(reverse("portal:live"), {"seqs": ",".join(map(str, bobs_seqs))})
    assert "Bob" not in live.content.decode()


def test_the_answer_re_renders_the_appointment_row_with_a_toast(client_for, alice, make_user):
    job = alice.jobs.get()
    request = services.request_change(customer=alice, job=job, kind="cancel")
    staff = make_user("sam", staff=True)
    before = OutboxEvent.objects.filter(customer_id=alice.pk).latest("seq").seq
    services.decline_request(request=request, by=staff, reply="It's tomorrow already, sorry")
    seqs = OutboxEvent.objects.filter(customer_id=alice.pk, seq__gt=before).values_list("seq", flat=True)
    html = client_for(alice).post(reverse("portal:live"), {"seqs": ",".join(map(str, seqs))}).content.decode()
    assert f'id="job-{job.pk}-request" data-request-status="declined"' in html
    assert "It&#x27;s tomorrow already, sorry" in html
    assert "Request declined" in html and "We couldn&#x27;t cancel your appointment." in html
    assert Job.objects.get(pk=job.pk).status == Job.Status.SCHEDULED


def test_muting_appointments_silences_a_request_answers_toast_but_the_row_still_updates(
    client_for, alice, make_user
):
    job = alice.jobs.get()
    request = services.request_change(customer=alice, job=job, kind="cancel")
    services.update_preferences(customer=alice, preferences={"notify_appointments": False})
    alice.refresh_from_db()
    before = OutboxEvent.objects.filter(customer_id=alice.pk).latest("seq").seq
    services.decline_request(request=request, by=make_user("sam", staff=True), reply="Too late, sorry")
    seqs = OutboxEvent.objects.filter(customer_id=alice.pk, seq__gt=before).values_list("seq", flat=True)
    assert set(OutboxEvent.objects.filter(seq__in=seqs).values_list("topic", flat=True)) == {"requests"}
    html = client_for(alice).post(reverse("portal:live"), {"seqs": ",".join(map(str, seqs))}).content.decode()
    assert f'id="job-{job.pk}-request" data-request-status="declined"' in html  # the row updates
    assert "Too late, sorry" in html
    assert 'class="toast ' not in html and "Request declined" not in html  # but no toast
    assert notifications.is_muted(alice, "requests")
    assert notifications.muted_topics(alice) == {"jobs", "requests"}

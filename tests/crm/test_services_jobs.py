"""The job actions of crm.services, and each way they refuse (one test per DomainError code)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from crm import services
from crm.models import Job, LoyaltyTransaction
from tests.crm.refusals import refuses

pytestmark = pytest.mark.django_db


# --- jobs -----------------------------------------------------------------------------------------


def test_schedule_job_uses_the_customer_address_by_default(customer, tomorrow_window):
    start, end = tomorrow_window()
    job = services.schedule_job(customer=customer, service_type="  Carpet cleaning ", start=start, end=end)
    assert (job.service_type, job.status, job.address) == ("Carpet cleaning", "scheduled", "12 Elm Street")
    assert (job.scheduled_start, job.scheduled_end) == (start, end)


def test_schedule_job_refusals(customer, tomorrow_window):
    start, end = tomorrow_window()
    ok = {"customer": customer, "service_type": "Rug", "start": start, "end": end}
    refuses("missing_service", services.schedule_job, **{**ok, "service_type": "  "})
    refuses("missing_time", services.schedule_job, **{**ok, "start": None})
    refuses("naive_time", services.schedule_job, **{**ok, "end": timezone.make_naive(end)})
    refuses("end_before_start", services.schedule_job, **{**ok, "end": start})
    assert not Job.objects.exists()


def test_reschedule_job(job, tomorrow_window):
    start, end = tomorrow_window(days=3, hours=1)
    services.reschedule_job(job=job, start=start, end=end)
    job.refresh_from_db()
    assert (job.scheduled_start, job.scheduled_end) == (start, end)
    refuses("unchanged", services.reschedule_job, job=job, start=start, end=end)
    refuses("end_before_start", services.reschedule_job, job=job, start=end, end=start)


def test_a_finished_job_cannot_be_rescheduled_or_moved(job, tomorrow_window):
    services.cancel_job(job=job)
    start, end = tomorrow_window(days=5)
    refuses("job_finished", services.reschedule_job, job=job, start=start, end=end)
    refuses("job_finished", services.change_job_status, job=job, status=Job.Status.CONFIRMED)
    refuses("job_finished", services.complete_job, job=job)


def test_change_job_status_walks_the_job_along(job):
    for status in (Job.Status.CONFIRMED, Job.Status.EN_ROUTE, Job.Status.IN_PROGRESS):
        assert services.change_job_status(job=job, status=status).status == status
    refuses("unchanged", services.change_job_status, job=job, status=Job.Status.IN_PROGRESS)
    refuses("unknown_status", services.change_job_status, job=job, status="teleported")


def test_a_job_never_goes_back_a_step(job):
    services.change_job_status(job=job, status=Job.Status.EN_ROUTE)
    for earlier in (Job.Status.SCHEDULED, Job.Status.CONFIRMED):
        error = refuses("backwards", services.change_job_status, job=job, status=earlier)
        assert str(error) == f"A job that is en route cannot go back to {earlier.label.lower()}."
    job.refresh_from_db()
    assert job.status == Job.Status.EN_ROUTE


def test_steps_may_be_skipped_and_an_open_job_cancelled_from_any_status(make_job):
    started = services.change_job_status(job=make_job(), status=Job.Status.IN_PROGRESS)
    assert services.cancel_job(job=started).status == Job.Status.CANCELLED
    assert services.change_job_status(job=make_job(days=2), status=Job.Status.COMPLETED).status == "completed"


def test_completed_and_cancelled_are_final(make_job):
    done = services.complete_job(job=make_job())
    cancelled = services.cancel_job(job=make_job(days=2))
    for job in (done, cancelled):
        for status in Job.Status.values:
            refuses("job_finished", services.change_job_status, job=job, status=status)


def test_completing_awards_the_configured_points_once(job, customer, settings):
    settings.LOYALTY_POINTS_PER_COMPLETED_JOB = 40
    services.change_job_status(job=job, status=Job.Status.COMPLETED)  # routed through complete_job
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED
    earned = LoyaltyTransaction.objects.get(customer=customer)
    assert (earned.kind, earned.points, earned.job) == ("earned", 40, job)
    refuses("job_finished", services.complete_job, job=job)
    assert customer.points_balance == 40


def test_completing_without_points(make_job, customer, settings):
    services.complete_job(job=make_job(), award_points=False)
    settings.LOYALTY_POINTS_PER_COMPLETED_JOB = 0
    services.complete_job(job=make_job(days=2))
    assert Job.objects.filter(status="completed").count() == 2
    assert not LoyaltyTransaction.objects.exists()


def test_cancel_job(job):
    assert services.cancel_job(job=job).status == Job.Status.CANCELLED
    refuses("job_finished", services.cancel_job, job=job)


def test_completing_a_job_that_already_earned_awards_nothing_more(job, customer, settings):
    """Points earned for a job outside the services (an old row) do not make completing fail."""
    settings.LOYALTY_POINTS_PER_COMPLETED_JOB = 50
    LoyaltyTransaction.objects.create(customer=customer, job=job, kind="earned", points=30)
    assert services.complete_job(job=job).status == Job.Status.COMPLETED
    assert customer.points_balance == 30


def test_update_job_details(job):
    updated = services.update_job(
        job=job, service_type=" Rug cleaning ", technician="Kim", internal_notes="x"
    )
    assert (updated.service_type, updated.technician, updated.internal_notes) == ("Rug cleaning", "Kim", "x")
    job.refresh_from_db()
    assert job.technician == "Kim"


def test_update_job_refusals(job, make_customer):
    refuses("unknown_field", services.update_job, job=job, customer=make_customer("Bob Example"))
    refuses("unknown_field", services.update_job, job=job, status="completed")
    refuses("missing_service", services.update_job, job=job, service_type=" ")
    refuses("too_long", services.update_job, job=job, service_type="x" * 121)
    refuses("too_long", services.update_job, job=job, technician="x" * 121)
    job.refresh_from_db()
    assert (job.service_type, job.technician) == ("Carpet cleaning", "")


def test_schedule_job_refuses_over_long_text(customer, tomorrow_window):
    start, end = tomorrow_window()
    ok = {"customer": customer, "service_type": "Rug", "start": start, "end": end}
    refuses("too_long", services.schedule_job, **{**ok, "service_type": "x" * 121})
    refuses("too_long", services.schedule_job, **{**ok, "technician": "x" * 121})
    assert services.schedule_job(**{**ok, "service_type": "x" * 120}).service_type == "x" * 120
    assert Job.objects.count() == 1


def test_each_change_a_calendar_shows_is_a_new_calendar_revision(job, tomorrow_window):
    """The job's iCalendar SEQUENCE (portal/ical.py) rises with its times, its status and the
    details an event shows, so calendar apps replace their copy; staff's internal notes are not
    in the event and leave it alone."""

    def revision() -> int:
        job.refresh_from_db()
        return job.calendar_sequence

    assert revision() == 0
    services.update_job(job=job, internal_notes="Gate code 4711")
    assert revision() == 0
    services.update_job(job=job, address="2 Side St", technician="Lee Park")  # one revision
    assert revision() == 1
    start, end = tomorrow_window(days=4)
    services.reschedule_job(job=job, start=start, end=end)
    assert revision() == 2
    services.change_job_status(job=job, status=Job.Status.CONFIRMED)
    services.cancel_job(job=job)
    assert revision() == 4

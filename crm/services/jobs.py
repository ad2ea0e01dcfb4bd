"""Jobs: booking, rescheduling, editing and moving them through their statuses."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.models import Customer, Job, LoyaltyTransaction
from crm.services import loyalty
from crm.services.errors import DomainError
from crm.services.inputs import clean_text
from crm.services.partial_save import differing_fields
from realtime.capture import lock

# The open statuses in the order a visit goes through them. Completed and cancelled are final.
STATUS_ORDER = (Job.Status.SCHEDULED, Job.Status.CONFIRMED, Job.Status.EN_ROUTE, Job.Status.IN_PROGRESS)
DETAIL_FIELDS = ("service_type", "technician", "address", "customer_notes", "internal_notes")
# What a job's calendar event shows (portal/ical.py). A change to any of them is a new revision
# of the event: its SEQUENCE goes up, so calendar apps replace the copy they hold.
CALENDAR_FIELDS = frozenset(
    {"service_type", "scheduled_start", "scheduled_end", "technician", "address", "status", "customer_notes"}
)


def _check_window(start: dt.datetime, end: dt.datetime) -> None:
    if start is None or end is None:
        raise DomainError("A job needs a start and an end.", code="missing_time")
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise DomainError("Job times must carry a time zone.", code="naive_time")
    if end <= start:
        raise DomainError("A job must end after it starts.", code="end_before_start")


def _ensure_open(job: Job) -> None:
    if job.status in Job.FINISHED:
        raise DomainError(f"This job is already {job.get_status_display().lower()}.", code="job_finished")


def _save(job: Job, fields: list[str]) -> None:
    """Save the changed `fields` (and the timestamp), raising the calendar revision when a
    calendar shows one of them."""
    if CALENDAR_FIELDS.intersection(fields):
        job.calendar_sequence += 1
        fields = [*fields, "calendar_sequence"]
    job.save(update_fields=[*fields, "updated_at"])


def _service_type(value: str | None) -> str:
    service_type = clean_text(value, Job, "service_type", label="service")
    if not service_type:
        raise DomainError("Say what service the job is.", code="missing_service")
    return service_type


@transaction.atomic
def schedule_job(
    *,
    customer: Customer,
    service_type: str,
    start: dt.datetime,
    end: dt.datetime,
    technician: str = "",
    address: str = "",
    customer_notes: str = "",
    internal_notes: str = "",
) -> Job:
    service_type = _service_type(service_type)
    technician = clean_text(technician, Job, "technician", label="technician's name")
    _check_window(start, end)
    return Job.objects.create(
        customer=customer,
        service_type=service_type,
        scheduled_start=start,
        scheduled_end=end,
        technician=technician,
        address=address or customer.address,
        customer_notes=customer_notes,
        internal_notes=internal_notes,
    )


@transaction.atomic
def update_job(*, job: Job, **changes: str) -> Job:
    """Edit a job's details (`DETAIL_FIELDS`). Its customer never changes: book a new job instead.

    Times go through `reschedule_job` and statuses through `change_job_status`.
    """
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise DomainError(
            f"These job fields cannot be edited: {', '.join(sorted(unknown))}.", code="unknown_field"
        )
    job = lock(Job, job.pk)
    cleaned = {field: (value or "").strip() for field, value in changes.items()}
    if "service_type" in cleaned:
        cleaned["service_type"] = _service_type(cleaned["service_type"])
    if "technician" in cleaned:
        cleaned["technician"] = clean_text(
            cleaned["technician"], Job, "technician", label="technician's name"
        )
    changed = differing_fields(job, cleaned)
    if changed:
        for field in changed:
            setattr(job, field, cleaned[field])
        _save(job, changed)
    return job


@transaction.atomic
def reschedule_job(*, job: Job, start: dt.datetime, end: dt.datetime) -> Job:
    job = lock(Job, job.pk)
    _ensure_open(job)
    _check_window(start, end)
    if (job.scheduled_start, job.scheduled_end) == (start, end):
        raise DomainError("The job is already at that time.", code="unchanged")
    job.scheduled_start, job.scheduled_end = start, end
    _save(job, ["scheduled_start", "scheduled_end"])
    return job


@transaction.atomic
def change_job_status(*, job: Job, status: str) -> Job:
    """Move a job forward: scheduled → confirmed → en route → in progress → completed.

    Steps may be skipped (a job can be completed straight from scheduled), and an open job can be
    cancelled from any status. Completed and cancelled are final, and a job never goes back a
    step: a visit that has started cannot be "unstarted"; if it has to happen another day,
    reschedule it (its status stays) or cancel it and book a new one. Completing goes through
    `complete_job`, so points are awarded.
    """
    if status not in Job.Status.values:
        raise DomainError(f"Unknown job status {status!r}.", code="unknown_status")
    if status == Job.Status.COMPLETED:
        return complete_job(job=job)
    job = lock(Job, job.pk)
    _ensure_open(job)
    if job.status == status:
        raise DomainError(f"The job is already {job.get_status_display().lower()}.", code="unchanged")
    if status != Job.Status.CANCELLED and STATUS_ORDER.index(status) < STATUS_ORDER.index(job.status):
        raise DomainError(
            f"A job that is {job.get_status_display().lower()} cannot go back to "
            f"{Job.Status(status).label.lower()}.",
            code="backwards",
        )
    job.status = status
    _save(job, ["status"])
    return job


def cancel_job(*, job: Job) -> Job:
    return change_job_status(job=job, status=Job.Status.CANCELLED)


@transaction.atomic
def complete_job(*, job: Job, award_points: bool = True) -> Job:
    """Complete an open job and award it the configured loyalty points, through `award_points`.

    A job earns once: if points were already earned for it, completing awards nothing more.
    """
    job = lock(Job, job.pk)
    _ensure_open(job)
    job.status = Job.Status.COMPLETED
    _save(job, ["status"])
    points = settings.LOYALTY_POINTS_PER_COMPLETED_JOB
    earned = LoyaltyTransaction.objects.filter(job=job, kind=LoyaltyTransaction.Kind.EARNED)
    if award_points and points > 0 and not earned.exists():
        loyalty.award_points(
            customer=job.customer, points=points, description=f"Completed: {job.service_type}", job=job
        )
    return job

"""Appointment requests: a customer asks to move or cancel an upcoming appointment; staff
accept (the job is rescheduled or cancelled through the jobs services) or decline with a reply.
Each step is one transaction; the request's own events reach the customer through the registry
(`request.created`, `request.accepted`, `request.declined`) and staff through the inbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from crm.models import Customer, Job, User
from crm.services.errors import DomainError
from crm.services.inbox import close_open_items, file_item
from crm.services.inputs import clean_text
from crm.services.jobs import cancel_job, reschedule_job
from crm.staff_models import AppointmentRequest, InboxItem
from realtime.capture import lock

Kind = AppointmentRequest.Kind
Status = AppointmentRequest.Status


def _day_and_time(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"  # "Thu 3 Dec, 06:00"


def _preferred(kind: str, times: Iterable[dt.datetime], now: dt.datetime) -> list[str]:
    chosen = sorted(set(times))
    if kind == Kind.CANCEL:
        if chosen:
            raise DomainError("A cancellation has no preferred times.", code="times_on_cancel")
        return []
    if not chosen:
        raise DomainError("Give at least one time that would suit you.", code="missing_times")
    if len(chosen) > AppointmentRequest.MAX_PREFERRED_TIMES:
        raise DomainError(
            f"Give at most {AppointmentRequest.MAX_PREFERRED_TIMES} preferred times.", code="too_many_times"
        )
    for moment in chosen:
        if timezone.is_naive(moment):
            raise DomainError("Preferred times must carry a time zone.", code="naive_time")
        if moment <= now:
            raise DomainError("Preferred times must be in the future.", code="past_time")
    return [moment.isoformat() for moment in chosen]


@transaction.atomic
def request_change(
    *,
    customer: Customer,
    job: Job,
    kind: str,
    preferred_times: Iterable[dt.datetime] = (),
    note: str = "",
) -> AppointmentRequest:
    """The customer's ask, on one of their own upcoming, open appointments."""
    if kind not in Kind.values:
        raise DomainError(f"Unknown request {kind!r}: move or cancel.", code="bad_kind")
    job = lock(Job, job.pk)
    now = timezone.now()
    if job.customer_id != customer.pk:
        raise DomainError("That appointment is not yours.", code="wrong_customer")
    if job.status in Job.FINISHED or job.scheduled_end < now:
        raise DomainError("Only upcoming appointments can be changed.", code="not_upcoming")
    if AppointmentRequest.objects.filter(job=job, status=Status.PENDING).exists():
        raise DomainError("You already asked about this appointment; we will answer soon.", code="pending")
    times = _preferred(kind, preferred_times, now)
    note = clean_text(note, AppointmentRequest, "note", label="note")
    request = AppointmentRequest.objects.create(
        customer=customer, job=job, kind=kind, preferred_times=times, note=note
    )
    verb = "move" if kind == Kind.RESCHEDULE else "cancel"
    file_item(
        customer=customer,
        kind=InboxItem.Kind.REQUEST,
        summary=f"{customer.name} asks to {verb} {job.service_type} on {_day_and_time(job.scheduled_start)}",
        text=note,
        record=("crm.job", job.pk),
        request=request,
    )
    return request


def _lock_pending(request: AppointmentRequest) -> AppointmentRequest:
    request = lock(AppointmentRequest, request.pk)
    if request.status != Status.PENDING:
        raise DomainError(f"This request was already {request.status}.", code="already_decided")
    return request


def _decide(request: AppointmentRequest, status: str, by: User | None, reply: str) -> AppointmentRequest:
    request.status = status
    request.reply = reply
    request.decided_at = timezone.now()
    request.decided_by = by
    request.save(update_fields=["status", "reply", "decided_at", "decided_by"])
    customer = Customer.objects.get(pk=request.customer_id)
    close_open_items(customer=customer, kind=InboxItem.Kind.REQUEST, by=by, request=request)
    return request


@transaction.atomic
def accept_request(
    *, request: AppointmentRequest, by: User | None, start: dt.datetime | None = None, reply: str = ""
) -> AppointmentRequest:
    """Accept: cancel the job, or move it to `start` (one of the preferred times, or any other
    staff choose), keeping its length."""
    request = _lock_pending(request)
    reply = clean_text(reply, AppointmentRequest, "reply", label="reply")
    job = Job.objects.get(pk=request.job_id)
    if request.kind == Kind.CANCEL:
        cancel_job(job=job)
    else:
        if start is None:
            raise DomainError("Choose the new time to accept a move.", code="missing_time")
        reschedule_job(job=job, start=start, end=start + (job.scheduled_end - job.scheduled_start))
    return _decide(request, Status.ACCEPTED, by, reply)


@transaction.atomic
def decline_request(*, request: AppointmentRequest, by: User | None, reply: str) -> AppointmentRequest:
    """Decline, telling the customer why (the reply is required)."""
    request = _lock_pending(request)
    reply = clean_text(reply, AppointmentRequest, "reply", label="reply")
    if not reply:
        raise DomainError("Tell the customer why in a reply.", code="missing_reply")
    return _decide(request, Status.DECLINED, by, reply)

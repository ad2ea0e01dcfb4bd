"""Data for the browser tests, made through `crm.services` like the admin makes it."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from crm import services
from crm.models import Customer, Invoice, Job

# The model permissions the "Staff" group holds (crm/migrations/0002_staff_group.py).
STAFF_GROUP = "Staff"
STAFF_EXCLUDED_CODENAMES = ("add_user", "change_user", "delete_user")


def schedule(
    customer: Customer, service: str = "Carpet cleaning", *, days: int = 2, hour: int | None = None
) -> Job:
    """A job `days` from now, at this hour of the day (or `hour` o'clock, for tests that move it
    to given hours and must not find it already there)."""
    start = (timezone.now() + dt.timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    if hour is not None:
        start = start.replace(hour=hour)
    return services.schedule_job(
        customer=customer,
        service_type=service,
        start=start,
        end=start + dt.timedelta(hours=2),
        technician="Dana Rivers",
    )


def sent_invoice(customer: Customer, total: str = "180.00", *, job: Job | None = None) -> Invoice:
    return services.send_invoice(invoice=services.create_invoice(customer=customer, total=total, job=job))


def staff_group():
    """The "Staff" group of the data migration; recreated when an earlier test's flush removed it."""
    group, created = Group.objects.get_or_create(name=STAFF_GROUP)
    if created:
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="crm").exclude(
                codename__in=STAFF_EXCLUDED_CODENAMES
            )
        )
    return group

"""Data for the browser tests, made through `crm.services` like the admin makes it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from crm import services
from crm.models import Customer, Invoice, Job


def schedule(customer: Customer, service: str = "Carpet cleaning", *, days: int = 2) -> Job:
    start = (timezone.now() + dt.timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return services.schedule_job(
        customer=customer,
        service_type=service,
        start=start,
        end=start + dt.timedelta(hours=2),
        technician="Dana Rivers",
    )


def sent_invoice(customer: Customer, total: str = "180.00", *, job: Job | None = None) -> Invoice:
    return services.send_invoice(invoice=services.create_invoice(customer=customer, total=total, job=job))

"""Admin actions that call a domain action per selected row and report each outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from crm import services
from crm.models import Job, LoyaltyTransaction
from crm.services import DomainError


def domain_action(name: str, description: str, done: str, act: Callable[[Any], object]) -> Callable:
    """An admin action that calls `act(obj)` per selected row and reports each outcome."""

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            try:
                act(obj)
            except DomainError as error:
                modeladmin.message_user(request, f"{obj}: {error.message}", level=messages.ERROR)
            else:
                modeladmin.message_user(request, f"{obj}: {done}.", level=messages.SUCCESS)

    action.__name__ = name
    return admin.action(description=description, permissions=["change"])(action)


def job_status_action(status: Job.Status, description: str) -> Callable:
    return domain_action(
        f"mark_{status}",
        description,
        str(status.label).lower(),
        lambda job: services.change_job_status(job=job, status=status),
    )


def points_form_action(name: str, description: str, kind: LoyaltyTransaction.Kind) -> Callable:
    """Open the points form for one customer, with the kind chosen."""

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet):
        if queryset.count() != 1:
            modeladmin.message_user(request, "Select exactly one customer.", level=messages.ERROR)
            return None
        query = urlencode({"customer": queryset.get().pk, "kind": kind})
        return HttpResponseRedirect(f"{reverse('admin:crm_loyaltytransaction_add')}?{query}")

    action.__name__ = name
    return admin.action(description=description, permissions=["change"])(action)

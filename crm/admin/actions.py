"""Admin actions that call a domain action per selected row and report each outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from crm import services
from crm.models import Customer, Job, LoyaltyKind
from crm.services import DomainError

# What `ModelAdmin.actions` holds: called with the admin, the request and the selected rows.
AdminAction = Callable[[admin.ModelAdmin[Any], HttpRequest, QuerySet[Any]], HttpResponseBase | None]


def domain_action(name: str, description: str, done: str, act: Callable[[Any], object]) -> AdminAction:
    """An admin action that calls `act(obj)` per selected row and reports each outcome."""

    def action(modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            try:
                act(obj)
            except DomainError as error:
                modeladmin.message_user(request, f"{obj}: {error.message}", level=messages.ERROR)
            else:
                modeladmin.message_user(request, f"{obj}: {done}.", level=messages.SUCCESS)

    action.__name__ = name
    return admin.action(description=description, permissions=["change"])(action)


def job_status_action(status: Job.Status, description: str) -> AdminAction:
    return domain_action(
        f"mark_{status}",
        description,
        str(status.label).lower(),
        lambda job: services.change_job_status(job=job, status=status),
    )


def points_form_action(name: str, description: str, kind: LoyaltyKind) -> AdminAction:
    """Open the points form for one customer, with the kind chosen."""

    def action(
        modeladmin: admin.ModelAdmin[Customer], request: HttpRequest, queryset: QuerySet[Customer]
    ) -> HttpResponseRedirect | None:
        if queryset.count() != 1:
            modeladmin.message_user(request, "Select exactly one customer.", level=messages.ERROR)
            return None
        query = urlencode({"customer": str(queryset.get().pk), "kind": kind.value})
        return HttpResponseRedirect(f"{reverse('admin:crm_loyaltytransaction_add')}?{query}")

    action.__name__ = name
    return admin.action(description=description, permissions=["change"])(action)

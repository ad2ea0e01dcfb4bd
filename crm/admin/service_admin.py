"""The CRM's model admins save through the services, once per save."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse

from crm.admin.forms import ServiceForm
from crm.models import User
from crm.services import DomainError

_M = TypeVar("_M", bound=models.Model)


def acting_user(request: HttpRequest) -> User:
    """The staff member saving (the admin lets no one else reach a change form)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


class ServiceFormAdmin(admin.ModelAdmin[_M]):
    """Saves the change form through `form.apply` instead of `obj.save()`.

    Django runs an admin POST in one transaction. A `DomainError` from the save (the form's
    services, or an inline's) rolls all of it back, and the same POST is rendered again with the
    refusal as the form's error. So each service runs once per save, and a refused save writes
    nothing: no row, no outbox event, no log entry.
    """

    def __init__(self, model: type[_M], admin_site: admin.AdminSite) -> None:
        super().__init__(model, admin_site)
        self._refusals: dict[HttpRequest, DomainError] = {}

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refusal:
            self._refusals[request] = refusal
            try:
                # The form now fails validation, so this pass renders it and saves nothing.
                return super().changeform_view(request, object_id, form_url, extra_context)
            finally:
                del self._refusals[request]

    def get_form(
        self, request: HttpRequest, obj: _M | None = None, change: bool = False, **kwargs: Any
    ) -> type[ServiceForm[_M]]:
        form = super().get_form(request, obj, change, **kwargs)
        if not issubclass(form, ServiceForm):
            raise TypeError(f"{type(self).__name__}.form must be a ServiceForm.")
        form.refusal = self._refusals.get(request)  # a class made for this request
        return form

    def save_model(self, request: HttpRequest, obj: _M, form: ServiceForm[_M], change: bool) -> None:
        saved = form.apply(user=acting_user(request))
        obj.pk = saved.pk
        obj.refresh_from_db()

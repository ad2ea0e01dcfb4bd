"""The customer's appointment requests: ask to move or cancel an upcoming appointment.

A thin view over `crm.services.request_change`; the request then shows on the appointment's
row (portal/_job_request.html), live, as staff answer it.
"""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.views.decorators.http import require_POST

from crm import services
from crm.models import AppointmentRequest
from portal import selectors
from portal.actions import _domain_refusal, _done, _refused, _refused_form
from portal.permissions import PortalRequest, customer_required
from portal.write_slots import one_of_few_writes

PAGE = "portal:appointments"


class RequestForm(forms.Form):
    kind = forms.ChoiceField(
        label="I would like to", choices=AppointmentRequest.Kind.choices, widget=forms.RadioSelect
    )
    preferred_1 = forms.DateTimeField(
        label="Preferred time", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    preferred_2 = forms.DateTimeField(
        label="Or", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    preferred_3 = forms.DateTimeField(
        label="Or", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def preferred_times(self) -> list[object]:
        # DateTimeField makes datetime-local values aware in the current time zone.
        names = ("preferred_1", "preferred_2", "preferred_3")
        return [self.cleaned_data[name] for name in names if self.cleaned_data.get(name)]


@require_POST
@customer_required
@one_of_few_writes
def request_change(request: PortalRequest, job_id: int) -> HttpResponse:
    job = selectors.job(request.customer_id, job_id)
    if job is None:  # someone else's, or no such appointment: the same answer
        return _refused(request, "That appointment is not in your account.", PAGE)
    form = RequestForm(request.POST)
    if not form.is_valid():
        return _refused_form(request, form, PAGE)
    try:
        made = services.request_change(
            customer=selectors.customer(request.customer_id),
            job=job,
            kind=form.cleaned_data["kind"],
            preferred_times=form.preferred_times(),  # type: ignore[arg-type]
            note=form.cleaned_data["note"],
        )
    except services.DomainError as error:
        return _domain_refusal(request, error, PAGE)
    return _done(request, PAGE, {"id": made.pk}, notice="Request sent. We will answer here soon.")

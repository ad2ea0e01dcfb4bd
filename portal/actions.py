"""Customer actions: thin views over `crm.services`.

The portal's script posts with `Accept: application/json` and shows its optimistic change at
once; a refusal (a form error or a `DomainError`) comes back as 422 with a message, and the
field it is about when there is one, for the inline error and the error toast; the script rolls
back. Without the script the forms still work: the view redirects back to the page, with the
refusal as a message. The realtime echo of a successful action updates every open tab,
including this one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.forms import Form
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from crm import services
from crm.models import Message
from crm.rewards import reward_description
from portal import own_changes, selectors, updates
from portal.forms import ContactForm, MessageForm, PreferencesForm, RedeemForm
from portal.permissions import PortalRequest, customer_required, wants_json
from portal.write_slots import one_of_few_writes

# The form field a `DomainError` is about, by its code, for the inline error.
ERROR_FIELDS = {
    "missing_name": "name",
    "bad_email": "email",
    "empty_message": "body",
    "too_long": "body",
    "bad_points": "points",
    "insufficient_points": "points",
}


def _form_error(form: Form) -> tuple[str, str]:
    """The first error of a bound form, and the field it belongs to ("" for the whole form)."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        name = field if field in form.fields else ""
        return (f"{label}: {errors[0]}" if label else str(errors[0])), name
    return "Please check the form.", ""


def _refused(request: PortalRequest, message: str, page: str, field: str = "") -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": message, "field": field}, status=422)
    flash.error(request, message)
    return redirect(page)


def _refused_form(request: PortalRequest, form: Form, page: str) -> HttpResponse:
    message, field = _form_error(form)
    return _refused(request, message, page, field)


def _domain_refusal(request: PortalRequest, error: services.DomainError, page: str) -> HttpResponse:
    return _refused(request, error.message, page, ERROR_FIELDS.get(error.code, ""))


def _done(request: PortalRequest, page: str, payload: dict[str, Any], notice: str = "") -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": True, "notice": notice, **payload})
    if notice:
        flash.success(request, notice)
    return redirect(page)


@require_POST
@customer_required
@one_of_few_writes
def send_message(request: PortalRequest) -> HttpResponse:
    # The script's key for this send (docs/components.md, "Offline sending"): a retry with the
    # same key gets the message the first try made, never a second one.
    key = request.POST.get("key") or None
    if key is not None and not services.valid_idempotency_key(key):
        return JsonResponse(
            {"error": "The message key must be 8-64 letters, digits, '-' or '_'.", "field": "key"}, status=400
        )
    form = MessageForm(request.POST)
    if not form.is_valid():
        return _refused_form(request, form, "portal:messages")
    try:
        message = services.customer_message(  # the message, and its item in the staff inbox
            customer=selectors.customer(request.customer_id),
            body=form.cleaned_data["body"],
            author=request.user,
            idempotency_key=key,
        )
    except services.DomainError as error:
        return _domain_refusal(request, error, "portal:messages")
    # The row as the page would render it, so the optimistic element becomes the real one now
    # instead of waiting for the echo (which then replaces it in place: one element, not two).
    # A repeated key's message deleted since by staff: nothing to show.
    html = (
        ""
        if message.deleted_at
        else render_to_string("portal/_message_row.html", {"message": message}, request=request)
    )
    return _done(request, "portal:messages", {"id": message.pk, "html": html})


@require_POST
@customer_required
@one_of_few_writes
def mark_read(request: PortalRequest, message_id: int) -> HttpResponse:
    message = selectors.message_for_customer(request.customer_id, message_id)
    if message is None or message.direction != Message.Direction.TO_CUSTOMER:
        # Someone else's message, a deleted one or one the customer wrote: the same answer.
        return _refused(request, "That message is not in your inbox.", "portal:messages")
    try:
        services.mark_message_read(message=message)
    except services.DomainError as error:
        return _domain_refusal(request, error, "portal:messages")
    return _done(request, "portal:messages", {"id": message.pk})


@require_POST
@customer_required
@one_of_few_writes
def redeem(request: PortalRequest) -> HttpResponse:
    form = RedeemForm(request.POST)
    if not form.is_valid():
        return _refused_form(request, form, "portal:loyalty")
    points = form.cleaned_data["points"]
    try:
        transaction = services.customer_redemption(
            customer=selectors.customer(request.customer_id),
            points=points,
            description=reward_description(points),
        )
    except services.DomainError as error:
        return _domain_refusal(request, error, "portal:loyalty")
    # The page already shows it; its echo should not toast as if staff had redeemed.
    own_changes.remember(request, "loyalty", transaction.pk)
    updates.skip_own(request.customer_id, "loyalty", transaction.pk)  # not news to the bell either
    balance = selectors.points_balance(request.customer_id)
    return _done(
        request,
        "portal:loyalty",
        {"id": transaction.pk, "balance": balance},
        notice=f"Done: {reward_description(points)} for {points} points. You have {balance} points left.",
    )


def _form_html(request: PortalRequest, template: str, **context: Any) -> str:
    return render_to_string(template, context, request=request)


@require_POST
@customer_required
@one_of_few_writes
def update_contact(request: PortalRequest) -> HttpResponse:
    form = ContactForm(request.POST)
    if not form.is_valid():
        return _refused_form(request, form, "portal:profile")
    customer = selectors.customer(request.customer_id)
    changes = form.changes()
    if changes:  # only what the customer changed: staff may have changed the rest meanwhile
        try:
            customer = services.customer_contact_change(customer=customer, **changes)
        except services.DomainError as error:
            return _domain_refusal(request, error, "portal:profile")
    fields = {field: getattr(customer, field) for field in ContactForm.base_fields}
    html = _form_html(request, "portal/_contact_form.html", contact_form=ContactForm.for_customer(customer))
    notice = "Contact details saved." if changes else "Nothing to save: no detail changed."
    return _done(
        request, "portal:profile", {"profile": fields, "changed": sorted(changes), "html": html}, notice
    )


@require_POST
@customer_required
@one_of_few_writes
def update_preferences(request: PortalRequest) -> HttpResponse:
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return _refused_form(request, form, "portal:profile")
    customer = selectors.customer(request.customer_id)
    changes = form.changes()
    if changes:
        try:
            customer = services.update_preferences(customer=customer, preferences=changes)
        except services.DomainError as error:
            return _domain_refusal(request, error, "portal:profile")
    html = _form_html(
        request, "portal/_preferences_form.html", preferences_form=PreferencesForm.for_customer(customer)
    )
    notice = "Preferences saved." if changes else "Nothing to save: no preference changed."
    return _done(
        request,
        "portal:profile",
        {"preferences": customer.preferences, "changed": sorted(changes), "html": html},
        notice,
    )

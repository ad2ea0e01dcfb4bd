"""Input forms for the customer actions. They check shape only; the rules (enough points, a
valid email, a non-empty message) are `crm.services`' and come back as `DomainError`.

The profile forms render each field's value as it was when the form was drawn
(`show_hidden_initial`: a hidden `initial-<name>` input), so a save writes only what the
customer changed (`changes()`), never an old value over what staff changed meanwhile.
"""

from __future__ import annotations

from typing import Any

from django import forms

from crm.models import Customer
from crm.services import MAX_MESSAGE_LENGTH, PREFERENCE_FLAGS


class MessageForm(forms.Form):
    body = forms.CharField(
        label="Your message",
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write to our team…"}),
    )


class RedeemForm(forms.Form):
    points = forms.IntegerField(
        label="Points to redeem",
        min_value=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "step": 1}),
    )

    @classmethod
    def for_balance(cls, balance: int) -> RedeemForm:
        form = cls()
        # The page's script keeps `max` equal to the live balance (docs/components.md).
        form.fields["points"].widget.attrs["max"] = max(balance, 0)
        return form


class ChangesOnly(forms.Form):
    """A form that knows which fields the customer changed from the values it was drawn with."""

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class ContactForm(ChangesOnly):
    name = forms.CharField(label="Name", max_length=200, show_hidden_initial=True)
    email = forms.EmailField(label="Email", required=False, show_hidden_initial=True)
    phone = forms.CharField(label="Phone", max_length=40, required=False, show_hidden_initial=True)
    address = forms.CharField(
        label="Address", required=False, widget=forms.Textarea(attrs={"rows": 2}), show_hidden_initial=True
    )

    @classmethod
    def for_customer(cls, customer: Customer) -> ContactForm:
        return cls(initial={field: getattr(customer, field) for field in cls.base_fields})


PREFERENCE_LABELS = {
    "notify_appointments": "Appointment updates",
    "notify_invoices": "Invoices and payments",
    "notify_messages": "Messages from our team",
    "notify_loyalty": "Loyalty points",
    "email_digests": "Email me a summary while I'm away",
}


class PreferencesForm(ChangesOnly):
    contact_channel = forms.ChoiceField(
        label="Preferred contact", choices=Customer.ContactChannel.choices, show_hidden_initial=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for flag in PREFERENCE_FLAGS:
            self.fields[flag] = forms.BooleanField(
                label=PREFERENCE_LABELS.get(flag, flag), required=False, show_hidden_initial=True
            )

    @classmethod
    def for_customer(cls, customer: Customer) -> PreferencesForm:
        # A flag the customer never set is on (customers made before it existed lack it).
        return cls(initial={**dict.fromkeys(PREFERENCE_FLAGS, True), **(customer.preferences or {})})

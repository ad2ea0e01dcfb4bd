"""Input forms for the customer actions. They check shape only; the rules (enough points, a
valid email, a non-empty message) are `crm.services`' and come back as `DomainError`."""

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
        label="Points to redeem", min_value=1, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )


class ContactForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    email = forms.EmailField(label="Email", required=False)
    phone = forms.CharField(label="Phone", max_length=40, required=False)
    address = forms.CharField(label="Address", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    @classmethod
    def for_customer(cls, customer: Customer) -> ContactForm:
        return cls(initial={field: getattr(customer, field) for field in cls.base_fields})


PREFERENCE_LABELS = {
    "notify_appointments": "Appointment updates",
    "notify_invoices": "Invoices and payments",
    "notify_messages": "Messages from our team",
    "notify_loyalty": "Loyalty points",
}


class PreferencesForm(forms.Form):
    contact_channel = forms.ChoiceField(label="Preferred contact", choices=Customer.ContactChannel.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for flag in PREFERENCE_FLAGS:
            self.fields[flag] = forms.BooleanField(label=PREFERENCE_LABELS.get(flag, flag), required=False)

    @classmethod
    def for_customer(cls, customer: Customer) -> PreferencesForm:
        return cls(initial=dict(customer.preferences or {}))

    def preferences(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("contact_channel", *PREFERENCE_FLAGS)}

"""The customer's notification preferences in the admin: a select and four labelled checkboxes.

The model keeps them in one JSON field (`Customer.preferences`). The form field stays that JSON
field, so the admin's stale-edit check (`crm.admin.concurrency`) and the service
(`crm.services.update_preferences`) see one value as before; only the widget changes: it draws
the dict as controls and reads the controls back into JSON.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from crm.models import Customer, default_preferences
from crm.services.customers import PREFERENCE_FLAGS

# The words staff read: the same the customer ticks in the portal's profile.
FLAG_LABELS = {
    "notify_appointments": "Notify about appointment updates",
    "notify_invoices": "Notify about invoices and payments",
    "notify_messages": "Notify about messages from the team",
    "notify_loyalty": "Notify about loyalty points",
    "email_digests": "Email a summary of updates while away",
}


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    return {**default_preferences(), **value} if isinstance(value, dict) else default_preferences()


class PreferencesWidget(forms.Widget):
    """`name_contact_channel` (a select) and `name_<flag>` (checkboxes), posted back as JSON."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        prefs = _as_dict(value)
        base_id = (attrs or {}).get("id") or f"id_{name}"
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (choice, " selected" if prefs.get("contact_channel") == choice else "", label)
                for choice, label in Customer.ContactChannel.choices
            ),
        )
        boxes = format_html_join(
            "",
            '<div class="preference-flag"><input type="checkbox" name="{}_{}" id="{}_{}"{}>'
            ' <label class="vCheckboxLabel" for="{}_{}">{}</label></div>',
            (
                (name, flag, base_id, flag, " checked" if prefs.get(flag, True) else "", base_id, flag, label)
                for flag, label in FLAG_LABELS.items()
            ),
        )
        return format_html(
            '<div class="preferences-widget" id="{}">'
            '<div><label for="{}_contact_channel">Preferred contact</label> '
            '<select name="{}_contact_channel" id="{}_contact_channel">{}</select></div>{}</div>',
            base_id,
            base_id,
            name,
            base_id,
            options,
            boxes,
        )

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str:
        if name in data:  # JSON posted as one value (a script): the drawn form never has it
            return str(data[name])
        prefs: dict[str, Any] = {
            "contact_channel": data.get(f"{name}_contact_channel", Customer.ContactChannel.EMAIL)
        }
        for flag in PREFERENCE_FLAGS:
            prefs[flag] = data.get(f"{name}_{flag}") not in (None, "", "off", "false", "0")
        return json.dumps(prefs)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        # Unticked boxes are not posted; the select always is when the form was drawn.
        return name not in data and f"{name}_contact_channel" not in data

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_contact_channel"

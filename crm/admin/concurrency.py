"""Optimistic concurrency for the admin's change forms: two stale forms revert nothing.

A change form draws each field's value beside it as a hidden `initial-<name>` input
(`show_hidden_initial`, as the portal's profile forms do): what the staff member saw. On save,
for each field:

- *edited*: the posted value differs from what they saw, so they changed it;
- *moved*: what they saw differs from the row as stored now, so someone else changed it.

The save writes the edited fields whose value differs from the stored one (`changed_data`), and
nothing else: a field someone else changed meanwhile keeps their value. A field both edited and
moved is a conflict: the form refuses the save with an error on that field naming its value now,
and is drawn again with that value as the one seen, so saving again replaces it knowingly.

A post without the `initial-` inputs (an old tab, a script) falls back to Django's comparison
with the stored row.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any, TypeVar

from django import forms
from django.contrib.admin.utils import display_for_field
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.http import QueryDict
from django.utils import formats, timezone
from django.utils.functional import cached_property

from crm.services import DomainError

_M = TypeVar("_M", bound=models.Model)

EMPTY = "(empty)"


class StaleEdit(DomainError):
    """Fields the staff member changed were changed by someone else after their form was drawn."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()), code="stale_edit")
        self.errors = errors


class SeenValuesForm(forms.ModelForm[_M]):
    """A model form that knows what the staff member saw of an existing row (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            for field in self.fields.values():
                field.show_hidden_initial = True
        # The stored row the save is compared with: as loaded for this request (a copy: the form
        # writes its values into `instance` after `clean`), then as locked for the save.
        self._stored = copy.copy(self.instance)
        self._edits: list[str] | None = None  # what the save may write, once cleaned

    @cached_property
    def _stored_values(self) -> dict[str, Any]:
        """The stored row's values as this form draws them (microseconds dropped, keys for rows)."""
        drawn = type(self)(instance=self._stored)
        return {name: drawn[name].initial for name in self.fields}

    def _seen(self, name: str) -> tuple[bool, Any]:
        """Whether the post says what the staff member saw of `name`, and that raw value."""
        bound = self[name]
        hidden = bound.field.hidden_widget()
        if hidden.value_omitted_from_data(self.data, self.files, bound.html_initial_name):
            return False, None
        return True, hidden.value_from_datadict(self.data, self.files, bound.html_initial_name)

    def _edited(self, name: str) -> bool:
        bound = self[name]
        posted, raw_seen = self._seen(name)
        if not posted:
            return bound.field.has_changed(self._stored_values[name], bound.data)
        try:
            seen = bound.field.to_python(raw_seen)
        except ValidationError:
            return True
        return bound.field.has_changed(seen, bound.data)

    @cached_property
    def changed_data(self) -> list[str]:
        """The fields the save writes: those the staff member changed, to other than the stored value."""
        if self.instance.pk is None:
            return super().changed_data
        edits = (
            self._edits if self._edits is not None else [name for name in self.fields if self._edited(name)]
        )
        stored = self._stored_values
        return [name for name in edits if self.fields[name].has_changed(stored[name], self[name].data)]

    def _post_clean(self) -> None:
        # The model's own checks (constraints such as "a job ends after it starts") judge the row
        # the save makes: the stored one with this form's changes, not with what it still shows.
        if self.instance.pk is not None:
            self._edits = self.changed_data
            for name in set(self.cleaned_data) - set(self._edits):
                del self.cleaned_data[name]
        super()._post_clean()  # type: ignore[misc]  # not in django-stubs; ModelForm's own

    def stale_fields(self) -> dict[str, str]:
        """Each changed field that someone else changed since the form was drawn, with its error."""
        stale = {}
        for name in self.changed_data:
            posted, raw_seen = self._seen(name)
            if posted and self.fields[name].has_changed(self._stored_values[name], raw_seen):
                stale[name] = (
                    f"{self.fields[name].label or name} was changed to “{self._shown(name)}” by someone "
                    "else after you opened this form. Save again to replace it with your value."
                )
        return stale

    def locked_row(self) -> _M:
        """The stored row, locked until the save's transaction ends; `StaleEdit` when a field the
        staff member changed was changed by someone else. From here on the form compares with it."""
        model = type(self.instance)
        self._stored = model._default_manager.select_for_update(no_key=True).get(pk=self.instance.pk)
        for cached in ("_stored_values", "changed_data"):
            self.__dict__.pop(cached, None)
        stale = self.stale_fields()
        if stale:
            raise StaleEdit(stale)
        return self._stored

    def refuse_stale(self, stale: dict[str, str]) -> None:
        """Add each stale field's error, and draw its stored value as the one seen."""
        inputs: dict[str, list[str]] = {}
        for name, error in stale.items():
            self.add_error(name, error)
            bound = self[name]
            value = bound.field.prepare_value(self._stored_values[name])
            drawn = bound.field.hidden_widget().get_context(bound.html_initial_name, value, None)["widget"]
            for each in drawn.get("subwidgets") or [drawn]:  # a date and a time, say
                inputs.setdefault(each["name"], []).append(each["value"] or "")
        if isinstance(self.data, QueryDict):
            data = self.data.copy()
            for key, values in inputs.items():
                data.setlist(key, values)
            self.data = data
        else:
            self.data = {
                **self.data,
                **{key: values if len(values) > 1 else values[0] for key, values in inputs.items()},
            }

    def _shown(self, name: str) -> str:
        """The stored value of `name`, as a person reads it."""
        value = self._stored_values[name]
        try:
            model_field = self._meta.model._meta.get_field(name)
        except FieldDoesNotExist:
            model_field = None
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(model_field, models.Field) and not isinstance(model_field, models.BooleanField):
            return str(display_for_field(getattr(self._stored, name), model_field, EMPTY))
        if isinstance(value, dt.datetime):
            return str(formats.localize(timezone.localtime(value)))
        return str(value) if value not in (None, "") else EMPTY

"""Partial saves: a domain action writes only the fields it changed, so it never rewrites the rest
(a concurrent edit of another field survives, and realtime records only what changed)."""

from __future__ import annotations

from typing import Any

from django.db import models


def differing_fields(instance: models.Model, values: dict[str, Any]) -> list[str]:
    """The names in `values` whose value differs from the instance's."""
    return [field for field, value in values.items() if getattr(instance, field) != value]


def save_changes(instance: models.Model, values: dict[str, Any], changed: list[str]) -> None:
    """Set the `changed` fields from `values` and save only them (and the timestamp); nothing when none."""
    if not changed:
        return
    for field in changed:
        setattr(instance, field, values[field])
    instance.save(update_fields=[*changed, "updated_at"])

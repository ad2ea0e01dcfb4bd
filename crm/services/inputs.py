"""Checks of the values domain actions take: bad input is a `DomainError`, never a database error."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils import timezone

from crm.services.errors import DomainError

# The ledger's points column is a 32-bit integer.
MAX_POINTS = 2**31 - 1
_WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*")


def _column(model: type[models.Model], field: str) -> models.Field[Any, Any]:
    column = model._meta.get_field(field)
    if not isinstance(column, models.Field):
        raise TypeError(f"{model.__name__}.{field} is a relation, not a column.")
    return column


def clean_text(value: str | None, model: type[models.Model], field: str, *, label: str) -> str:
    """`value` stripped, refused when longer than the column holds."""
    text = (value or "").strip()
    max_length = _column(model, field).max_length
    if max_length is not None and len(text) > max_length:
        raise DomainError(f"The {label} is at most {max_length} characters.", code="too_long")
    return text


def whole_points(points: Any) -> int:
    """An int, or the text of one (form input); never a bool, a float or a fraction."""
    if isinstance(points, str) and _WHOLE_NUMBER.fullmatch(points):
        points = int(points)
    if isinstance(points, bool) or not isinstance(points, int):
        raise DomainError(f"{points!r} is not a whole number of points.", code="bad_points")
    if abs(points) > MAX_POINTS:
        raise DomainError("That is more points than the ledger holds.", code="bad_points")
    return points


def amount(total: Any, model: type[models.Model], field: str) -> Decimal:
    """A money amount rounded to the column's places, refused when not finite, negative or too large."""
    column = _column(model, field)
    if not isinstance(column, models.DecimalField):
        raise TypeError(f"{model.__name__}.{field} is not a decimal column.")
    places = Decimal(1).scaleb(-column.decimal_places)
    largest = Decimal(10) ** (column.max_digits - column.decimal_places) - places
    if isinstance(total, bool):
        raise DomainError(f"{total!r} is not an amount.", code="bad_amount")
    try:
        value = Decimal(str(total).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(f"{total!r} is not an amount.", code="bad_amount") from None
    if not value.is_finite():
        raise DomainError(f"{total!r} is not an amount.", code="bad_amount")
    if value < 0:
        raise DomainError("An invoice total cannot be negative.", code="negative_total")
    if value > largest:
        raise DomainError(f"An invoice total is at most {largest:,}.", code="total_too_large")
    rounded = value.quantize(places)
    if rounded > largest:  # 99999999.995 rounds up past the column
        raise DomainError(f"An invoice total is at most {largest:,}.", code="total_too_large")
    return rounded.copy_abs() if rounded.is_zero() else rounded  # no "-0.00"


def past_moment(moment: dt.datetime, *, what: str) -> dt.datetime:
    """An aware datetime that has already happened."""
    if not isinstance(moment, dt.datetime):
        raise DomainError(f"The {what} must be a date and time.", code="bad_time")
    if timezone.is_naive(moment):
        raise DomainError(f"The {what} must carry a time zone.", code="naive_time")
    if moment > timezone.now():
        raise DomainError(f"The {what} is in the future.", code="in_future")
    return moment

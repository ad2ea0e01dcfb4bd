"""What redeemed loyalty points are worth to the customer, in the words the portal uses."""

from __future__ import annotations

from decimal import Decimal

# "Every 100 points take $10 off your next appointment" (the loyalty page says so).
POINT_VALUE = Decimal("0.10")


def reward_value(points: int) -> Decimal:
    return (POINT_VALUE * points).quantize(Decimal("0.01"))


def reward_description(points: int) -> str:
    """What the customer gets for `points`, as the loyalty history and the confirmation say it."""
    return f"${reward_value(points)} off your next appointment"

"""A requested change to a running subscription: seats, plan, interval, or any mix."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ValidationFailed
from core.periods import Interval

__all__ = ["Change"]


@dataclass(frozen=True, slots=True)
class Change:
    """What the tenant asks for; ``None`` keeps the current value."""

    seats: int | None = None
    plan_id: str | None = None
    interval: Interval | None = None

    def __post_init__(self) -> None:
        if self.seats is not None and (type(self.seats) is not int or self.seats < 0):
            raise ValidationFailed(f"seats must be a whole number: {self.seats!r}", field="seats")
        if self.plan_id is not None and not self.plan_id:
            raise ValidationFailed("the plan must not be empty", field="plan_id")
        if self.interval is not None and not isinstance(self.interval, Interval):
            raise ValidationFailed(f"not an interval: {self.interval!r}", field="interval")

"""Working hours (issue #19): how long a user is expected to work on each weekday, and the days
they do not work. Missing-time reminders compare tracked time against it; a user who never set
it works 8 hours Monday to Friday (40 h a week).

Pure: the model, its rules and the port the stores implement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from core.errors import ValidationFailed

__all__ = [
    "DEFAULT_WORKING_HOURS", "MAX_DAYS_OFF", "WEEKDAYS", "WorkingHours", "WorkingHoursStore",
    "expected_minutes",
]

WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: Days off a user may list at once (a few years of holidays).
MAX_DAYS_OFF = 400


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Expected minutes per weekday (Monday first) and the dates off, sorted."""

    minutes: tuple[int, ...] = (480, 480, 480, 480, 480, 0, 0)
    days_off: tuple[date, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.minutes) != 7:
            raise ValidationFailed("give expected hours for each of the seven weekdays", field="hours")
        for name, value in zip(WEEKDAYS, self.minutes, strict=True):
            if not 0 <= value <= 24 * 60:
                raise ValidationFailed(f"{name}: expected hours lie between 0 and 24", field="hours")
        if len(self.days_off) > MAX_DAYS_OFF:
            raise ValidationFailed(f"at most {MAX_DAYS_OFF} days off", field="days_off")

    @classmethod
    def of(cls, minutes: tuple[int, ...], days_off: list[date] | tuple[date, ...]) -> WorkingHours:
        return cls(tuple(minutes), tuple(sorted(set(days_off))))

    @property
    def weekly_minutes(self) -> int:
        return sum(self.minutes)


DEFAULT_WORKING_HOURS = WorkingHours()


def expected_minutes(hours: WorkingHours, first: date, last: date) -> int:
    """Minutes expected from ``first`` to ``last`` (both included), days off not counted."""
    off = set(hours.days_off)
    total, day = 0, first
    while day <= last:
        if day not in off:
            total += hours.minutes[day.weekday()]
        day += timedelta(days=1)
    return total


class WorkingHoursStore(Protocol):
    """One tenant's working hours per user (None: the user never set them)."""

    async def get(self, user_id: str) -> WorkingHours | None: ...

    async def all(self) -> dict[str, WorkingHours]:
        """Every user's who set them (the Reports page reads a whole team's at once)."""
        ...

    async def save(self, user_id: str, hours: WorkingHours) -> None: ...

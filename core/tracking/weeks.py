"""Weeks: ISO week ids ("2026-W03"), Monday first, and the day a worklog belongs to.

A worklog belongs to the calendar day on which it *starts*, in its owner's time
zone; a track that runs past midnight stays on the day it began (as timesheets
and approvals need one day per worklog).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import ValidationFailed
from core.tracking.fields import DATE_RANGE, FIRST_DAY, LAST_DAY

__all__ = ["WeekId", "local_day", "parse_week_id", "week_of", "zone"]

_WEEK_ID = re.compile(r"(\d{4})-W(\d{2})", re.ASCII)


def zone(time_zone: str) -> ZoneInfo:
    """The IANA zone named ``time_zone``; an unknown name is bad input, not a crash."""
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(
            f"unknown time zone {time_zone!r}", field="time_zone"
        ) from exc


def local_day(instant: datetime, time_zone: str) -> date:
    """The calendar day ``instant`` falls on in ``time_zone``."""
    return instant.astimezone(zone(time_zone)).date()


@dataclass(frozen=True, slots=True, order=True)
class WeekId:
    """An ISO 8601 week: weeks start on Monday and week 1 holds the year's first Thursday."""

    year: int
    week: int

    def __post_init__(self) -> None:
        # Raises for week 53 of a year that has only 52, and for week 0.
        date.fromisocalendar(self.year, self.week, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def days(self) -> tuple[date, ...]:
        """Monday .. Sunday."""
        first = self.monday
        return tuple(first + timedelta(days=offset) for offset in range(7))


def week_of(day: date) -> WeekId:
    """The ISO week ``day`` lies in (for an instant, pass ``local_day(instant, zone)``)."""
    if isinstance(day, datetime):
        # A datetime is a date subclass; silently using its own tz would pick the wrong day.
        raise TypeError("week_of takes a date; use local_day() for an instant")
    year, week, _ = day.isocalendar()
    return WeekId(year, week)


def parse_week_id(text: str) -> WeekId:
    """``"2026-W03"`` → ``WeekId(2026, 3)``; anything else, or a week wholly outside the
    accepted dates (:data:`core.tracking.fields.DATE_RANGE`), is a ValidationFailed on ``week``."""
    match = _WEEK_ID.fullmatch(text.strip())
    if match is None:
        raise ValidationFailed(
            f"{text!r} is not a week; use YYYY-Www, for example 2026-W03", field="week"
        )
    year, week = int(match[1]), int(match[2])
    try:
        found = WeekId(year, week)
    except ValueError as exc:
        raise ValidationFailed(f"{year} has no week {week}", field="week") from exc
    # A week with at least one day in range is valid: 1970-W01 begins on 1969-12-29.
    # (Monday first: the Sunday of 9999-W52 would be in year 10000.)
    if found.monday > LAST_DAY or found.days[-1] < FIRST_DAY:
        raise ValidationFailed(f"week {found} is out of range: {DATE_RANGE}", field="week")
    return found

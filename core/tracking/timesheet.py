"""Timesheet views over one user's worklogs: the week grid and the monthly calendar.

Each worklog counts wholly on the day it starts, in the user's time zone (see
:mod:`core.tracking.weeks`), so every total is a plain sum of lengths in seconds.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from core.errors import ValidationFailed
from core.tracking.fields import DATE_RANGE, FIRST_DAY, LAST_DAY
from core.tracking.weeks import WeekId, local_day, week_of
from core.tracking.worklog import Worklog

__all__ = [
    "CalendarDay",
    "CalendarWeek",
    "MonthCalendar",
    "WeekGrid",
    "WeekRow",
    "month_calendar",
    "week_grid",
]


@dataclass(frozen=True, slots=True)
class WeekRow:
    """One work item's seconds per day, Monday..Sunday (``None``: time with no work item)."""

    work_item: str | None
    days_s: tuple[int, ...]

    @property
    def total_s(self) -> int:
        return sum(self.days_s)


@dataclass(frozen=True, slots=True)
class WeekGrid:
    week: WeekId
    days: tuple[date, ...]
    rows: tuple[WeekRow, ...]
    day_totals_s: tuple[int, ...]

    @property
    def total_s(self) -> int:
        return sum(self.day_totals_s)


def _by_day(worklogs: Iterable[Worklog], time_zone: str) -> list[tuple[date, Worklog]]:
    return [(local_day(worklog.started_at, time_zone), worklog) for worklog in worklogs]


def week_grid(worklogs: Iterable[Worklog], week: WeekId, time_zone: str) -> WeekGrid:
    """The week's grid; worklogs outside the week are ignored.

    Rows are sorted by work item, with the row for time without a work item last.
    """
    days = week.days
    cells: dict[str | None, list[int]] = {}
    for day, worklog in _by_day(worklogs, time_zone):
        if week_of(day) != week:
            continue
        row = cells.setdefault(worklog.work_item, [0] * 7)
        row[day.weekday()] += worklog.length_s
    order = sorted(cells, key=lambda item: (item is None, item or ""))
    rows = tuple(WeekRow(item, tuple(cells[item])) for item in order)
    day_totals = tuple(sum(row.days_s[index] for row in rows) for index in range(7))
    return WeekGrid(week=week, days=days, rows=rows, day_totals_s=day_totals)


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    in_month: bool
    total_s: int


@dataclass(frozen=True, slots=True)
class CalendarWeek:
    """A calendar line, Monday..Sunday; its total counts only the month's own days."""

    week: WeekId
    days: tuple[CalendarDay, ...]

    @property
    def total_s(self) -> int:
        return sum(day.total_s for day in self.days if day.in_month)


@dataclass(frozen=True, slots=True)
class MonthCalendar:
    year: int
    month: int
    weeks: tuple[CalendarWeek, ...]

    @property
    def total_s(self) -> int:
        return sum(week.total_s for week in self.weeks)


def month_calendar(
    worklogs: Iterable[Worklog], year: int, month: int, time_zone: str
) -> MonthCalendar:
    """The month as whole Monday-first weeks; days of the neighbouring months show
    their totals too (greyed out by the page) but do not count in the month's."""
    if not 1 <= month <= 12:
        raise ValidationFailed(f"no such month: {year}-{month}", field="month")
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise ValidationFailed(f"month {year:04d}-{month:02d} is out of range: {DATE_RANGE}", field="month")
    totals: dict[date, int] = {}
    for day, worklog in _by_day(worklogs, time_zone):
        totals[day] = totals.get(day, 0) + worklog.length_s
    lines = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(year, month)
    weeks = tuple(
        CalendarWeek(
            week=week_of(line[0]),
            days=tuple(CalendarDay(day, day.month == month, totals.get(day, 0)) for day in line),
        )
        for line in lines
    )
    return MonthCalendar(year=year, month=month, weeks=weeks)

"""Billing periods: ``[start, end)`` calendar days, one month or one year long.

A subscription keeps the day of month it was bought on (its *anchor day*). A
period that would end on a day the month does not have ends on the month's last
day instead, and the next one goes back to the anchor: Jan 31 → Feb 28 → Mar 31.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = ["Interval", "Period", "add_months", "first_period", "period_after"]


class Interval(StrEnum):
    """How often a subscription is billed."""

    MONTHLY = "monthly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return 1 if self is Interval.MONTHLY else 12


def add_months(start: date, months: int, anchor_day: int | None = None) -> date:
    """``start`` moved by whole months onto ``anchor_day`` (default: its own day), clamped."""
    day = anchor_day if anchor_day is not None else start.day
    if not 1 <= day <= 31:
        raise ValueError(f"anchor day must be 1..31, got {day}")
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day, last))


@dataclass(frozen=True, slots=True)
class Period:
    """One billing period ``[start, end)``, with the anchor day it was computed from."""

    start: date
    end: date
    anchor_day: int

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty period {self.start}..{self.end}")

    @property
    def days(self) -> int:
        """How many days the period has: 28–31 for a month, 365 or 366 for a year."""
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def days_left(self, day: date) -> int:
        """Days from ``day`` to the end; the day itself counts as a remaining day."""
        if not self.contains(day):
            raise ValueError(f"{day} is not in the period {self.start}..{self.end}")
        return (self.end - day).days


def first_period(start: date, interval: Interval) -> Period:
    """The period that starts on the purchase day; its day of month becomes the anchor."""
    return Period(start, add_months(start, interval.months, start.day), start.day)


def period_after(period: Period, interval: Interval) -> Period:
    """The period that follows ``period`` (a renewal), for ``interval``, keeping the anchor."""
    return Period(
        period.end, add_months(period.end, interval.months, period.anchor_day), period.anchor_day
    )

"""An iteration's burndown: Remaining and Completed Work per day, against the ideal line.

The mirror keeps one history point per item per day (the day's last Remaining and Completed
Work and the item's iteration, recorded wherever the mirror row is written: the Azure DevOps
sync and every standalone change). An item counts on a day when its last point on or before
that day places it in the iteration, so an item moved in mid-iteration adds its work from
that day on and an item moved out stops counting. Hours are integer hundredths throughout
(the fields have two places); only the ideal line is divided, rounded once per day half-even.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from core.errors import ValidationFailed
from core.work_items.model import Iteration

__all__ = ["Burndown", "BurndownDay", "HistoryPoint", "burndown"]

#: A burndown longer than a year is not an iteration (and would make a huge page).
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """An item's Remaining and Completed Work (hundredths of an hour) as the day ended."""

    item_id: int
    day: date
    iteration_id: int | None
    remaining: int | None
    completed: int | None


@dataclass(frozen=True, slots=True)
class BurndownDay:
    day: date
    remaining: int | None
    """Summed Remaining Work in hundredths of an hour; ``None`` for a day still to come."""
    completed: int | None
    ideal: int
    """The ideal line: the first day's remaining falling evenly to 0 on the last day."""


@dataclass(frozen=True, slots=True)
class Burndown:
    iteration: Iteration
    days: list[BurndownDay]


def _days(iteration: Iteration) -> list[date]:
    if iteration.start is None or iteration.finish is None:
        raise ValidationFailed("a burndown needs an iteration with a start and a finish date",
                               field="iteration")
    count = (iteration.finish - iteration.start).days + 1
    if count < 1 or count > MAX_DAYS:
        raise ValidationFailed(f"a burndown covers 1 to {MAX_DAYS} days", field="iteration")
    return [iteration.start + timedelta(days=n) for n in range(count)]


def burndown(iteration: Iteration, history: Sequence[HistoryPoint], today: date) -> Burndown:
    """Per day of ``iteration`` (start to finish, inclusive): Remaining and Completed Work
    summed over the items in it that day (each item's last point on or before the day), and
    the ideal line. Days after ``today`` have no actual values: nothing is known of them."""
    days = _days(iteration)
    by_item: dict[int, list[HistoryPoint]] = defaultdict(list)
    for point in sorted(history, key=lambda p: (p.item_id, p.day)):
        by_item[point.item_id].append(point)
    indexed = [(points, [p.day for p in points]) for points in by_item.values()]
    remaining: list[int | None] = []
    completed: list[int | None] = []
    for day in days:
        if day > today:
            remaining.append(None)
            completed.append(None)
            continue
        left = done = 0
        for points, point_days in indexed:
            at = bisect_right(point_days, day)
            if at == 0:
                continue  # the item did not exist yet
            last = points[at - 1]
            if last.iteration_id == iteration.id:
                left += last.remaining or 0
                done += last.completed or 0
        remaining.append(left)
        completed.append(done)
    first = remaining[0] or 0
    span = len(days) - 1
    ideal = [
        0 if span == 0 else round(Fraction(first * (span - n), span))  # half-even, once
        for n in range(len(days))
    ]
    return Burndown(iteration, [
        BurndownDay(day, r, c, i) for day, r, c, i in zip(days, remaining, completed, ideal, strict=True)
    ])

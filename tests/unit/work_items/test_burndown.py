"""The burndown arithmetic (core/work_items/burndown.py), by hand-computed examples."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.errors import ValidationFailed
from core.work_items import Iteration
from core.work_items.burndown import HistoryPoint, burndown

SPRINT = Iteration(7, "Proj\\Sprint 1", date(2026, 3, 2), date(2026, 3, 6))


def _day(n: int) -> date:
    return SPRINT.start + timedelta(days=n)  # type: ignore[operator]


def test_each_day_sums_the_last_known_values_and_the_ideal_falls_evenly_to_zero() -> None:
    history = [
        HistoryPoint(1, _day(-3), 7, 1000, 0),  # before the start: its value carries in
        HistoryPoint(2, _day(0), 7, 600, None),
        HistoryPoint(1, _day(1), 7, 700, 300),
        HistoryPoint(2, _day(3), 7, 0, 650),
    ]
    chart = burndown(SPRINT, history, today=_day(10))
    assert [d.remaining for d in chart.days] == [1600, 1300, 1300, 700, 700]
    assert [d.completed for d in chart.days] == [0, 300, 300, 950, 950]
    assert [d.ideal for d in chart.days] == [1600, 1200, 800, 400, 0]


def test_an_item_counts_only_on_the_days_it_is_in_the_iteration() -> None:
    history = [
        HistoryPoint(1, _day(0), 7, 500, 0),
        HistoryPoint(2, _day(0), 9, 400, 0),  # another iteration
        HistoryPoint(2, _day(2), 7, 400, 0),  # moved in
        HistoryPoint(1, _day(3), None, 500, 0),  # moved out
    ]
    chart = burndown(SPRINT, history, today=_day(4))
    assert [d.remaining for d in chart.days] == [500, 500, 900, 400, 400]


def test_days_to_come_have_no_values_and_the_ideal_is_rounded_once_half_even() -> None:
    sprint = Iteration(7, "S", date(2026, 3, 2), date(2026, 3, 5))  # 4 days: thirds
    chart = burndown(sprint, [HistoryPoint(1, date(2026, 3, 2), 7, 100, 0)], today=date(2026, 3, 3))
    assert [d.remaining for d in chart.days] == [100, 100, None, None]
    assert [d.completed for d in chart.days] == [0, 0, None, None]
    assert [d.ideal for d in chart.days] == [100, 67, 33, 0]


def test_an_iteration_without_dates_has_no_burndown() -> None:
    with pytest.raises(ValidationFailed):
        burndown(Iteration(7, "S", None, date(2026, 3, 5)), [], today=date(2026, 3, 3))

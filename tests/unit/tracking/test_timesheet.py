"""The week grid and the monthly calendar."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import ValidationFailed
from core.tracking import DATE_RANGE, WeekId, month_calendar, week_grid
from tests.unit.tracking.factories import a_worklog, utc

WEEK = WeekId(2026, 3)  # Monday 12 .. Sunday 18 January 2026
WORKLOGS = [
    a_worklog(worklog_id="a", work_item="42", started_at=utc(2026, 1, 12, 9), length_s=3600),
    a_worklog(worklog_id="b", work_item="42", started_at=utc(2026, 1, 12, 14), length_s=1800),
    a_worklog(worklog_id="c", work_item="7", started_at=utc(2026, 1, 14, 9), length_s=600),
    a_worklog(worklog_id="d", work_item=None, started_at=utc(2026, 1, 18, 23, 30), length_s=900),
    a_worklog(worklog_id="e", work_item="42", started_at=utc(2026, 1, 19, 9), length_s=7200),
    a_worklog(worklog_id="f", work_item="42", started_at=utc(2026, 1, 11, 9), length_s=60),
]


def test_the_week_grid_has_a_row_per_work_item_and_totals_per_day_row_and_week() -> None:
    """Rows sorted by work item, time without one last, Monday first."""
    grid = week_grid(WORKLOGS, WEEK, "UTC")
    assert grid.days[0] == date(2026, 1, 12) and grid.days[6] == date(2026, 1, 18)
    assert [row.work_item for row in grid.rows] == ["42", "7", None]
    assert grid.rows[0].days_s == (5400, 0, 0, 0, 0, 0, 0)
    assert grid.rows[1].days_s == (0, 0, 600, 0, 0, 0, 0)
    assert grid.rows[2].days_s == (0, 0, 0, 0, 0, 0, 900)
    assert [row.total_s for row in grid.rows] == [5400, 600, 900]
    assert grid.day_totals_s == (5400, 0, 600, 0, 0, 0, 900)
    assert grid.total_s == 6900


def test_the_week_grid_uses_the_users_time_zone() -> None:
    """Sunday 23:30 UTC is Monday 00:30 in Berlin, so it leaves week 3 for week 4."""
    grid = week_grid(WORKLOGS, WEEK, "Europe/Berlin")
    assert [row.work_item for row in grid.rows] == ["42", "7"]
    assert grid.total_s == 6000
    next_week = week_grid(WORKLOGS, WeekId(2026, 4), "Europe/Berlin")
    assert next_week.rows[-1].work_item is None
    assert next_week.day_totals_s[0] == 900 + 7200


def test_an_empty_week_has_no_rows_and_zero_totals() -> None:
    """No worklogs, nothing to show but zeros."""
    grid = week_grid([], WEEK, "UTC")
    assert grid.rows == () and grid.day_totals_s == (0,) * 7 and grid.total_s == 0


def test_the_monthly_calendar_shows_whole_weeks_and_counts_only_the_months_days() -> None:
    """January 2026 spans five Monday-first weeks; 29 December .. 1 February are shown too."""
    worklogs = [*WORKLOGS, a_worklog(worklog_id="g", started_at=utc(2026, 2, 1, 9), length_s=100)]
    month = month_calendar(worklogs, 2026, 1, "UTC")
    assert [str(week.week) for week in month.weeks] == [
        "2026-W01", "2026-W02", "2026-W03", "2026-W04", "2026-W05",
    ]
    first = month.weeks[0].days[0]
    assert (first.day, first.in_month) == (date(2025, 12, 29), False)
    last = month.weeks[-1].days[-1]
    assert (last.day, last.in_month, last.total_s) == (date(2026, 2, 1), False, 100)
    assert month.weeks[2].days[0].total_s == 5400
    assert month.weeks[2].total_s == 6900
    assert month.weeks[-1].total_s == 0
    assert month.total_s == 6900 + 7200 + 60


def test_a_month_that_does_not_exist_is_refused() -> None:
    """Month 13 is bad input."""
    with pytest.raises(ValidationFailed):
        month_calendar([], 2026, 13, "UTC")


@pytest.mark.parametrize(("year", "month"), [(1, 1), (1969, 12), (3000, 1), (9999, 12)])
def test_refuses_months_outside_1970_to_2999_naming_the_range(year: int, month: int) -> None:
    """9999-12 would need days of year 10000: refused as input, like 1969-12 and 3000-01."""
    with pytest.raises(ValidationFailed) as caught:
        month_calendar([], year, month, "UTC")
    assert caught.value.field == "month" and DATE_RANGE in caught.value.detail


def test_the_first_and_last_accepted_months_have_calendars() -> None:
    """1970-01 and 2999-12 show whole weeks, reaching into 1969 and 3000."""
    assert month_calendar([], 1970, 1, "Pacific/Kiritimati").weeks[0].days[0].day == date(1969, 12, 29)
    assert month_calendar([], 2999, 12, "Etc/GMT+12").weeks[-1].days[-1].day.year == 3000

"""Working hours (core.working_hours): 40 hours a week unless set, days off not expected."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import ValidationFailed
from core.working_hours import DEFAULT_WORKING_HOURS, WorkingHours, expected_minutes

MONDAY, SUNDAY = date(2026, 1, 5), date(2026, 1, 11)


def test_a_user_who_never_set_hours_is_expected_forty_hours_a_week() -> None:
    assert expected_minutes(DEFAULT_WORKING_HOURS, MONDAY, SUNDAY) == 40 * 60


def test_a_day_off_is_not_expected_and_a_weekend_day_off_changes_nothing() -> None:
    hours = WorkingHours.of((480, 480, 480, 480, 240, 0, 0), [date(2026, 1, 6), date(2026, 1, 10)])
    assert expected_minutes(hours, MONDAY, SUNDAY) == 480 * 3 + 240


def test_days_off_are_kept_once_and_in_order() -> None:
    given = [date(2026, 1, 9), date(2026, 1, 6), date(2026, 1, 9)]
    hours = WorkingHours.of(DEFAULT_WORKING_HOURS.minutes, given)
    assert hours.days_off == (date(2026, 1, 6), date(2026, 1, 9))


@pytest.mark.parametrize("minutes", [(480,) * 6, (480, 480, 480, 480, 480, 0, 1441), (-1, 0, 0, 0, 0, 0, 0)])
def test_hours_outside_a_day_or_not_seven_of_them_are_refused(minutes: tuple[int, ...]) -> None:
    with pytest.raises(ValidationFailed):
        WorkingHours.of(minutes, [])

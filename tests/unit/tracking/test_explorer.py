"""Grouping worklogs (core.tracking.explorer): one rounding per line, sums of the rounded
lines, and the from/to bounds (a date is a whole day in the caller's zone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationFailed
from core.money import Money
from core.rates import amount
from core.tracking import Worklog, WorklogFlag, create_worklog, draft_worklog
from core.tracking.explorer import GroupBy, bound, group_worklogs, parse_group_by

RATE = Money(10_000, "USD")
START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _worklog(n: int, user: str, billable_s: int, days: int = 0) -> Worklog:
    draft = draft_worklog(user, START + timedelta(days=days, minutes=n), 3600, added_by=user,
                          origin=WorklogFlag.MANUAL, billable_length_s=billable_s)
    return create_worklog(draft, f"w{n}")


@given(st.lists(st.tuples(st.sampled_from(["ann", "bob"]), st.integers(0, 3600), st.integers(0, 20)),
                min_size=1, max_size=30))
def test_a_groups_amount_is_the_sum_of_its_worklogs_amounts_each_rounded_once(
    lines: list[tuple[str, int, int]],
) -> None:
    worklogs = [_worklog(n, user, billable, days) for n, (user, billable, days) in enumerate(lines)]
    groups = group_worklogs(worklogs, (GroupBy.USER, GroupBy.WEEK), zone="UTC", currency="USD",
                            price=lambda w: amount(w.billable_length_s, RATE), facts=lambda w: (None, None))
    for group in groups:
        mine = [w for w in worklogs if w.user_id == group.key["user_id"]]
        assert group.amount.amount == sum(amount(w.billable_length_s, RATE).amount for w in mine)
        assert group.tracked_s == sum(w.length_s for w in mine)
        assert sum(g.amount.amount for g in group.groups or []) == group.amount.amount
    assert sum(g.billable_s for g in groups) == sum(w.billable_length_s for w in worklogs)


def test_a_date_bound_is_the_whole_day_in_the_zone_and_to_includes_it() -> None:
    assert bound("2026-01-05", "from", "Europe/Berlin") == datetime(2026, 1, 4, 23, tzinfo=UTC)
    assert bound("2026-01-05", "to", "Europe/Berlin", end=True) == datetime(2026, 1, 5, 23, tzinfo=UTC)
    assert bound("2026-01-05T10:00:00+01:00", "to", "UTC", end=True) == datetime(2026, 1, 5, 9, tzinfo=UTC)
    with pytest.raises(ValidationFailed):
        bound("9999-12-31", "to", "UTC", end=True)
    with pytest.raises(ValidationFailed):
        bound("2026-01-05T10:00:00", "from", "UTC")


def test_group_by_takes_one_or_two_different_levels() -> None:
    assert parse_group_by("user,week") == (GroupBy.USER, GroupBy.WEEK)
    for bad in ("", "user,user", "user,week,day", "team"):
        with pytest.raises(ValidationFailed):
            parse_group_by(bad)

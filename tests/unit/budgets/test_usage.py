"""Usage and the monthly statement: sums of lines rounded once, so they agree to the cent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.budgets import (
    Budget,
    BudgetChanges,
    BudgetDraft,
    WorklogFact,
    apply_changes,
    check_currency,
    create_budget,
    hours_to_seconds,
    month_window,
    price_lines,
    statement_of,
    usage_of,
)
from core.errors import ValidationFailed
from core.money import Money, round_half_even

AT = datetime(2026, 12, 1, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Vienna")


def budget(**overrides: object) -> Budget:
    fields: dict[str, object] = {"name": "Acme retainer", **overrides}
    return create_budget(BudgetDraft(**fields), "b1", AT)  # type: ignore[arg-type]


RATES = {"ann": Money(9_999), "bob": Money(12_345), "cy": Money(7_001)}


def pricer(fact: WorklogFact) -> tuple[Money | None, Money]:
    rate = RATES.get(fact.user_id)
    if rate is None:
        return None, Money(0)
    return rate, Money(round_half_even(Fraction(fact.billable_s * rate.amount, 3600)))


facts = st.lists(
    st.builds(
        lambda n, user, minute, length, share, item: WorklogFact(
            id=f"w{n}", user_id=user, started_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minute),
            work_item=item, activity_type=None, length_s=length, billable_s=length * share // 4,
        ),
        st.integers(0, 10**6), st.sampled_from(["ann", "bob", "cy", "dee"]),
        st.integers(0, 365 * 24 * 60), st.integers(1, 86_400), st.integers(0, 4),
        st.none() | st.integers(1, 5),
    ),
    max_size=60,
    unique_by=lambda f: f.id,
)


@given(facts)
def test_usage_over_a_year_is_the_sum_of_its_monthly_statements_to_the_cent(items: list[WorklogFact]) -> None:
    lines = price_lines(items, pricer)
    year_start, _ = month_window("2026-01", ZONE)
    _, year_end = month_window("2026-12", ZONE)
    in_year = [line for line in lines if year_start <= line.fact.started_at < year_end]
    usage = usage_of(budget(), in_year, "USD")
    months = []
    for number in range(1, 13):
        month = f"2026-{number:02d}"
        start, end = month_window(month, ZONE)
        months.append(statement_of(budget(), month, [x for x in lines if start <= x.fact.started_at < end],
                                   ZONE, {}, "USD"))
    assert usage.amount.amount == sum(s.amount.amount for s in months)
    assert usage.amount.amount == sum(line.amount.amount for s in months for line in s.lines)
    assert usage.billable_s == sum(s.billable_s for s in months)
    # The breakdowns partition the same lines.
    for rows in (usage.by_user, usage.by_activity_type, usage.by_work_item):
        assert sum(row.amount.amount for row in rows) == usage.amount.amount
        assert sum(row.tracked_s for row in rows) == usage.tracked_s


def test_hours_and_amount_left_go_negative_when_a_budget_is_overrun() -> None:
    fact = WorklogFact("w", "bob", AT, 1, "Development", length_s=7_200, billable_s=3_600)
    lines = price_lines([fact], pricer)
    usage = usage_of(budget(limit_s=3_600, amount=Money(10_000)), lines, "USD")
    assert usage.left_s == -3_600
    assert usage.amount_left == Money(10_000 - 12_345)
    assert usage_of(budget(), lines, "USD").left_s is None


def test_a_statement_has_only_billable_lines_dated_in_the_tenants_zone_with_titles() -> None:
    late = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # already February 1st in Vienna
    billable = WorklogFact("w1", "ann", late, 7, "Design", 3_600, 1_800)
    unbillable = WorklogFact("w2", "ann", late, 7, "Design", 3_600, 0)
    statement = statement_of(budget(), "2026-02", price_lines([billable, unbillable], pricer), ZONE,
                             {7: "Checkout"}, "USD")
    [line] = statement.lines
    assert (line.day, line.work_item_title, line.rate, line.amount) == (
        date(2026, 2, 1), "Checkout", Money(9_999), Money(5_000)  # 99.99 / 2 = 49.995 → 50.00 half-even
    )


def test_a_month_window_is_the_months_midnights_in_the_zone() -> None:
    start, end = month_window("2026-12", ZONE)
    assert start.isoformat() == "2026-12-01T00:00:00+01:00"
    assert end.isoformat() == "2027-01-01T00:00:00+01:00"


def test_hours_take_at_most_two_places_and_are_whole_seconds() -> None:
    assert hours_to_seconds("1.25") == 4_500
    assert hours_to_seconds(0) == 0
    for bad in ("1.255", "-1", "NaN", "abc", "1e9"):
        with pytest.raises(ValidationFailed):
            hours_to_seconds(bad)


def test_a_budget_keeps_its_rules_on_create_and_on_change() -> None:
    with pytest.raises(ValidationFailed):
        budget(name="   ")
    with pytest.raises(ValidationFailed):
        create_budget(BudgetDraft(name="x" * 201), "b", AT)
    with pytest.raises(ValidationFailed):
        budget(amount=Money(100, "EUR"), hourly_rate=Money(100, "USD"))
    with pytest.raises(ValidationFailed):
        budget(amount=Money(-1))
    with pytest.raises(ValidationFailed):
        budget(starts_on=date(2026, 2, 1), ends_on=date(2026, 1, 1))
    with pytest.raises(ValidationFailed):
        check_currency(budget(amount=Money(100, "EUR")), "USD")
    check_currency(budget(), "USD")
    changed = apply_changes(budget(), BudgetChanges(open=False, name="  Renamed "))
    assert (changed.open, changed.name) == (False, "Renamed")
    with pytest.raises(ValidationFailed):
        apply_changes(budget(), BudgetChanges(name=""))

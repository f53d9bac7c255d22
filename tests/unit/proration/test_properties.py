"""Properties of proration that hold for every period, date and change (Hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core.errors import Conflict, PayoutRefused, ValidationFailed
from core.periods import Interval, Period, first_period, period_after
from core.proration import (
    PAYOUT_REFUSED,
    Change,
    CreditEntry,
    CreditLedger,
    Terms,
    day_value,
    prorate,
    quote_change,
    settle_quote,
)

from .catalogue import PAID_PLANS, is_free, price_of

intervals = st.sampled_from(list(Interval))
paid_plans = st.sampled_from(PAID_PLANS)
seat_counts = st.integers(min_value=1, max_value=300)


@st.composite
def running_periods(draw: st.DrawFn) -> tuple[Period, Interval]:
    """A period as renewals make it: any start day (29th–31st included), a few renewals on."""
    interval = draw(intervals)
    period = first_period(draw(st.dates(date(2020, 1, 1), date(2030, 12, 31))), interval)
    renewals = draw(st.integers(0, 13 if interval is Interval.MONTHLY else 2))
    for _ in range(renewals):
        period = period_after(period, interval)
    return period, interval


@st.composite
def paid_terms(draw: st.DrawFn, interval: Interval) -> Terms:
    plan = draw(paid_plans)
    return Terms(plan, interval, draw(seat_counts), price_of(plan, interval))


@st.composite
def changes(draw: st.DrawFn, *, to_free: bool = False) -> Change:
    plans = st.sampled_from((*PAID_PLANS, "Free")) if to_free else paid_plans
    return Change(
        seats=draw(st.none() | seat_counts),
        plan_id=draw(st.none() | plans),
        interval=draw(st.none() | intervals),
    )


def days_of(period: Period) -> st.SearchStrategy[date]:
    return st.integers(0, period.days - 1).map(lambda n: period.start + timedelta(days=n))


def changes_something(current: Terms, change: Change) -> bool:
    return (
        (change.seats is not None and change.seats != current.seats)
        or (change.plan_id is not None and change.plan_id != current.plan_id)
        or (change.interval is not None and change.interval is not current.interval)
    )


@given(st.data())
def test_changes_in_a_period_telescope_to_the_sum_of_day_values(data: st.DataObject) -> None:
    """Purchase plus every line equals Σ of each day's value, within half a unit per change."""
    period, interval = data.draw(running_periods())
    terms = data.draw(paid_terms(interval))
    offsets = sorted(data.draw(st.lists(st.integers(0, period.days - 1), max_size=8)))
    charged, exact, lines = terms.amount, Fraction(terms.amount), 0
    in_force = [terms] * period.days
    for offset in offsets:
        change = data.draw(changes())
        if not changes_something(terms, change):
            continue
        q = quote_change(terms, period, period.start + timedelta(days=offset), change, price_of, is_free)
        charged += q.total
        exact += sum((line.exact_amount for line in q.lines), Fraction(0))
        lines += len(q.lines)
        terms = q.new
        in_force[offset:] = [terms] * (period.days - offset)
    by_day = sum((day_value(t, period) for t in in_force), Fraction(0))
    assert exact == by_day  # the exact lines telescope with no error at all
    assert abs(charged - by_day) <= Fraction(lines, 2)  # ≤ ½ per rounding, inside SPEC's 1


@given(st.data())
def test_a_quote_is_exactly_what_the_change_does(data: st.DataObject) -> None:
    """The quoted lines are the change's lines, and settling moves exactly their money."""
    period, interval = data.draw(running_periods())
    current = data.draw(paid_terms(interval))
    change = data.draw(changes(to_free=True))
    assume(changes_something(current, change))
    on = data.draw(days_of(period))
    q = quote_change(current, period, on, change, price_of, is_free)
    assert q == quote_change(current, period, on, change, price_of, is_free)
    assert q.total == sum(line.amount for line in q.lines)
    if q.scheduled_for is None:
        assert q.lines == (prorate(period, on, current, q.new),)
    else:
        assert q.lines == ()
    before = CreditLedger().add_credit(data.draw(st.integers(1, 10**7)), "c", "c", on)
    invoice, after = settle_quote(q, before, invoice_id="inv")
    charges = sum(line.amount for line in q.lines if line.amount > 0)
    credits = -sum(line.amount for line in q.lines if line.amount < 0)
    applied = 0 if invoice is None else invoice.credit_applied
    assert (0 if invoice is None else invoice.total) == charges
    assert after.balance == before.balance + credits - applied
    if invoice is not None:
        assert invoice.amount_due == charges - applied >= 0


ledger_ops = st.lists(
    st.tuples(st.sampled_from(("add", "invoice", "use")), st.integers(0, 10**6)), max_size=30
)


@given(ledger_ops)
def test_the_credit_balance_is_never_negative_and_never_paid_out(
    ops: list[tuple[str, int]],
) -> None:
    """Whatever is added, invoiced or drawn, the balance stays ≥ 0 and payouts are refused."""
    ledger, day = CreditLedger(), date(2026, 1, 1)
    for op, amount in ops:
        if op == "add" and amount > 0:
            ledger = ledger.add_credit(amount, "credit", "c", day)
        elif op == "invoice":
            applied, after = ledger.apply_to(amount, reference="inv", on=day)
            assert applied == min(amount, ledger.balance)
            ledger = after
        elif op == "use" and amount > 0:
            if amount > ledger.balance:
                with pytest.raises(Conflict):
                    ledger.append(CreditEntry(-amount, "use", "x", day))
            else:
                ledger = ledger.append(CreditEntry(-amount, "use", "x", day))
        assert ledger.balance == sum(e.amount for e in ledger.entries) >= 0
        with pytest.raises(PayoutRefused, match=PAYOUT_REFUSED):
            ledger.request_payout()


@given(st.data())
def test_a_change_never_moves_the_period_end(data: st.DataObject) -> None:
    """Lines, invoices and schedules all end where the running period ends."""
    period, interval = data.draw(running_periods())
    current = data.draw(paid_terms(interval))
    change = data.draw(changes(to_free=True))
    assume(changes_something(current, change))
    q = quote_change(current, period, data.draw(days_of(period)), change, price_of, is_free)
    assert q.period == period
    assert q.scheduled_for in (None, period.end)
    assert all(line.period.end == period.end for line in q.lines)
    invoice, _ = settle_quote(q, CreditLedger(), invoice_id="inv")
    assert invoice is None or all(line.ends_on == period.end for line in invoice.lines)


@given(st.data())
def test_a_change_reverted_on_the_same_day_nets_to_zero(data: st.DataObject) -> None:
    """Going somewhere and straight back the same day costs at most one minor unit."""
    period, interval = data.draw(running_periods())
    current = data.draw(paid_terms(interval))
    change = data.draw(changes())
    assume(changes_something(current, change))
    on = data.draw(days_of(period))
    there = quote_change(current, period, on, change, price_of, is_free)
    revert = Change(seats=current.seats, plan_id=current.plan_id, interval=current.interval)
    back = quote_change(there.new, period, on, revert, price_of, is_free)
    assert back.new == current
    assert abs(there.total + back.total) <= 1


@given(st.data())
def test_days_outside_the_period_are_always_refused(data: st.DataObject) -> None:
    """Any day before the start or from the end on is refused on the field on."""
    period, interval = data.draw(running_periods())
    current = data.draw(paid_terms(interval))
    outside = data.draw(
        st.integers(1, 800).map(lambda n: period.start - timedelta(days=n))
        | st.integers(0, 800).map(lambda n: period.end + timedelta(days=n))
    )
    with pytest.raises(ValidationFailed) as refused:
        quote_change(current, period, outside, Change(seats=current.seats + 1), price_of, is_free)
    assert refused.value.field == "on"

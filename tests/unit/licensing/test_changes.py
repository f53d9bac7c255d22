"""Changes to a running subscription: seats, plan and interval (SPEC §4, §5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from core.errors import Conflict, PlanNotAvailable, SeatLimit, ValidationFailed
from core.licensing import (
    Deployment,
    cancel_scheduled_change,
    change_interval,
    change_plan,
    change_seats,
    renew,
)
from core.periods import Interval

from .builders import active, cancelled, past_due, plan, trial

CLOUD = Deployment.CLOUD


def test_a_seat_change_takes_effect_at_once_and_keeps_the_period() -> None:
    """10 → 50 seats: the seats change now and the expiry date stays."""
    sub = change_seats(active(seats=10), plan("team"), 50, licensed_users=10)
    assert sub.seats == 50 and sub.period == active().period


def test_lowering_seats_below_licensed_users_is_refused() -> None:
    """The admin must unlicense users first."""
    with pytest.raises(SeatLimit):
        change_seats(active(seats=10), plan("team"), 5, licensed_users=8)


def test_a_legacy_subscription_accepts_seat_changes() -> None:
    """A legacy plan keeps renewing and accepts seat changes."""
    legacy = replace(active(), plan_id="legacy_services")
    assert change_seats(legacy, plan("legacy_services"), 400, licensed_users=3).seats == 400


def test_a_cancelled_subscription_can_still_change_seats_until_its_period_ends() -> None:
    """It is paid until the period ends, so seats may still move."""
    assert change_seats(cancelled(), plan("team"), 12, licensed_users=3).seats == 12


def test_a_trial_or_past_due_subscription_cannot_change() -> None:
    """A trial has nothing to change; a past-due one must be settled first."""
    for sub in (trial(), past_due(since=date(2026, 2, 1))):
        with pytest.raises(Conflict):
            change_seats(sub, plan("team"), 3, licensed_users=1)


def test_a_change_must_name_the_subscriptions_own_plan() -> None:
    """Passing the wrong current plan is refused rather than silently re-pricing."""
    with pytest.raises(ValidationFailed):
        change_seats(active(plan_id="team"), plan("start"), 3, licensed_users=1)


def test_a_change_between_paid_plans_takes_effect_at_once() -> None:
    """Team → Ultimate now, with the new seats, same period."""
    sub = change_plan(active(), plan("team"), plan("ultimate"), 25, CLOUD, licensed_users=10)
    assert (sub.plan_id, sub.seats, sub.scheduled_plan_id) == ("ultimate", 25, None)
    assert sub.period == active().period


def test_a_change_to_free_is_scheduled_for_the_period_end() -> None:
    """Team stays until renewal; Free with its seats is scheduled."""
    sub = change_plan(active(), plan("team"), plan("free"), 3, CLOUD, licensed_users=3)
    assert (sub.plan_id, sub.seats) == ("team", 10)
    assert (sub.scheduled_plan_id, sub.scheduled_seats) == ("free", 3)


def test_a_change_to_free_needs_licensed_users_within_its_seats() -> None:
    """Free allows 3 users; 5 licensed users must be brought down first."""
    with pytest.raises(SeatLimit):
        change_plan(active(), plan("team"), plan("free"), 3, CLOUD, licensed_users=5)


def test_a_scheduled_change_can_be_withdrawn() -> None:
    """Withdrawn, the next renewal keeps Team."""
    scheduled = change_plan(active(), plan("team"), plan("free"), 3, CLOUD, licensed_users=1)
    kept = cancel_scheduled_change(scheduled)
    assert renew(kept, date(2027, 1, 1)).plan_id == "team"


def test_a_subscription_cannot_change_onto_a_plan_of_another_deployment() -> None:
    """An on-premises Team subscription cannot move to Start."""
    with pytest.raises(PlanNotAvailable):
        change_plan(active(), plan("team"), plan("start"), 5, Deployment.ONPREM, licensed_users=1)


def test_an_interval_change_reprices_now_and_the_next_renewal_runs_for_the_new_interval() -> None:
    """Annual → monthly: the period keeps its end; the renewal after it is one month long."""
    sub = change_interval(active(), plan("team"), Interval.MONTHLY)
    assert sub.interval is Interval.MONTHLY and sub.period == active().period
    renewed = renew(sub, date(2027, 1, 1))
    assert renewed.period is not None and renewed.period.end == date(2027, 2, 1)

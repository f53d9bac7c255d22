"""What the background job does each day: renew, expire or nothing — and only once."""

from __future__ import annotations

from datetime import date, timedelta

from core.licensing import (
    Deployment,
    Due,
    DueAction,
    ExpiryReason,
    SubscriptionStatus,
    apply_due,
    due_transition,
    purchase,
)
from core.periods import Interval

from .builders import TODAY, active, cancelled, past_due, plan, trial


def test_an_ended_trial_is_due_to_expire_with_reason_trial_expired() -> None:
    """On the trial's end day the job expires it."""
    assert due_transition(trial(), TODAY + timedelta(days=28)) == Due(
        DueAction.EXPIRE, ExpiryReason.TRIAL_EXPIRED
    )


def test_a_running_trial_has_nothing_due() -> None:
    """On its last day a trial is left alone."""
    assert due_transition(trial(), TODAY + timedelta(days=27)).action is DueAction.NOTHING


def test_an_active_subscription_is_due_to_renew_on_the_expiry_day() -> None:
    """Renewal happens on the expiry day, not before."""
    assert due_transition(active(), date(2026, 12, 31)).action is DueAction.NOTHING
    assert due_transition(active(), date(2027, 1, 1)).action is DueAction.RENEW


def test_a_cancelled_subscription_is_due_to_expire_when_its_period_is_over() -> None:
    """Cancelled + period over → expire."""
    assert due_transition(cancelled(), date(2027, 1, 1)) == Due(DueAction.EXPIRE, ExpiryReason.PERIOD_ENDED)


def test_a_past_due_subscription_is_due_to_expire_beyond_its_grace() -> None:
    """Within the grace nothing; after it, expire."""
    sub = past_due(since=date(2026, 3, 1))
    assert due_transition(sub, date(2026, 3, 14)).action is DueAction.NOTHING
    assert due_transition(sub, date(2026, 3, 15)) == Due(DueAction.EXPIRE, ExpiryReason.PAYMENT_FAILED)


def test_running_the_job_twice_on_one_day_changes_the_subscription_once() -> None:
    """After one renewal the same day has nothing more due."""
    renewed, first = apply_due(active(), date(2027, 1, 1))
    again, second = apply_due(renewed, date(2027, 1, 1))
    assert (first.action, second.action) == (DueAction.RENEW, DueAction.NOTHING)
    assert again == renewed


def test_a_job_that_was_down_catches_up_one_period_at_a_time() -> None:
    """Three monthly periods missed renew three times, then nothing is due."""
    sub = purchase(trial(), plan("team"), Interval.MONTHLY, 2, TODAY, deployment=Deployment.CLOUD)
    renewals = 0
    while True:
        sub, due = apply_due(sub, date(2026, 4, 15))
        if due.action is DueAction.NOTHING:
            break
        renewals += 1
    assert renewals == 3
    assert sub.period is not None and sub.period.contains(date(2026, 4, 15))


def test_an_expired_subscription_has_nothing_due() -> None:
    """Expiry is final until someone buys or reactivates."""
    expired, _ = apply_due(trial(), TODAY + timedelta(days=30))
    assert expired.status is SubscriptionStatus.EXPIRED
    assert due_transition(expired, TODAY + timedelta(days=400)).action is DueAction.NOTHING

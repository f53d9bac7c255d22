"""Subscription lifecycle transitions of SPEC §3: trial, purchase, renewal, cancel, payment, expiry."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.errors import Conflict, PlanNotAvailable, SeatLimit, ValidationFailed
from core.licensing import (
    Deployment,
    ExpiryReason,
    SubscriptionStatus,
    cancel,
    change_plan,
    end_trial,
    expire,
    extend_trial,
    payment_failed,
    payment_succeeded,
    purchase,
    reactivate,
    renew,
    resume,
    start_trial,
)
from core.periods import Interval, Period

from .builders import TODAY, active, cancelled, past_due, plan, trial

S = SubscriptionStatus
CLOUD = Deployment.CLOUD


def test_a_trial_lasts_28_days_by_default() -> None:
    """Started on Jan 1, the trial's last day is Jan 28."""
    sub = start_trial(TODAY)
    assert sub.status is S.TRIALING
    assert sub.trial_ends_on == date(2026, 1, 29)


def test_the_trial_length_is_configurable() -> None:
    """A 14-day trial ends 14 days after it starts."""
    assert start_trial(TODAY, trial_days=14).trial_ends_on == date(2026, 1, 15)


def test_a_trial_has_team_features_and_no_seat_limit() -> None:
    """The trial runs on Team with seats None (unlimited)."""
    sub = start_trial(TODAY)
    assert (sub.plan_id, sub.seats) == ("team", None)


def test_a_trial_of_no_days_is_refused() -> None:
    """Zero trial days is a configuration error."""
    with pytest.raises(ValidationFailed):
        start_trial(TODAY, trial_days=0)


def test_a_purchase_starts_the_period_that_day() -> None:
    """Buying Team annual on Mar 10 gives the period [Mar 10, next Mar 10)."""
    sub = purchase(trial(), plan("team"), Interval.ANNUAL, 10, date(2026, 3, 10), deployment=CLOUD)
    assert sub.status is S.ACTIVE
    assert sub.period == Period(date(2026, 3, 10), date(2027, 3, 10), 10)
    assert (sub.plan_id, sub.interval, sub.seats) == ("team", Interval.ANNUAL, 10)


def test_a_purchase_on_the_31st_keeps_its_anchor_through_short_months() -> None:
    """Monthly from Jan 31: the period ends Feb 28, and the next one Mar 31."""
    sub = purchase(trial(), plan("team"), Interval.MONTHLY, 3, date(2026, 1, 31), deployment=CLOUD)
    assert sub.period is not None and sub.period.end == date(2026, 2, 28)
    assert renew(sub, date(2026, 2, 28)).period == Period(date(2026, 2, 28), date(2026, 3, 31), 31)


def test_a_purchase_applies_the_plan_rules() -> None:
    """A legacy plan, a wrong deployment and too many seats are all refused at purchase."""
    with pytest.raises(PlanNotAvailable):
        purchase(trial(), plan("legacy_services"), Interval.ANNUAL, 5, TODAY, deployment=CLOUD)
    with pytest.raises(PlanNotAvailable):
        purchase(trial(), plan("start"), Interval.ANNUAL, 5, TODAY, deployment=Deployment.ONPREM)
    with pytest.raises(SeatLimit):
        purchase(trial(), plan("start"), Interval.ANNUAL, 20, TODAY, deployment=CLOUD)


def test_an_expired_tenant_can_buy_again() -> None:
    """After an ended trial the tenant buys and is active at once."""
    expired = expire(trial(), TODAY + timedelta(days=28))
    sub = purchase(expired, plan("team"), Interval.MONTHLY, 5, date(2026, 2, 3), deployment=CLOUD)
    assert sub.status is S.ACTIVE and sub.expiry_reason is None


def test_a_running_subscription_cannot_be_bought_again() -> None:
    """Active, past-due and still-running cancelled subscriptions are changed, not re-bought."""
    for sub in (active(), past_due(since=date(2026, 2, 1)), cancelled()):
        with pytest.raises(Conflict):
            purchase(sub, plan("team"), Interval.ANNUAL, 5, date(2026, 2, 2), deployment=CLOUD)


def test_a_cancelled_subscription_whose_period_ended_can_be_bought_again() -> None:
    """Once the cancelled period is over, buying starts a new period."""
    sub = purchase(cancelled(), plan("team"), Interval.MONTHLY, 2, date(2027, 1, 5), deployment=CLOUD)
    assert sub.status is S.ACTIVE and sub.period is not None and sub.period.start == date(2027, 1, 5)


def test_renewal_starts_the_next_period_with_the_current_plan_interval_and_seats() -> None:
    """On the expiry day a new period starts; nothing else changes."""
    sub = active(seats=7)
    renewed = renew(sub, date(2027, 1, 1))
    assert renewed.period == Period(date(2027, 1, 1), date(2028, 1, 1), 1)
    assert (renewed.plan_id, renewed.interval, renewed.seats, renewed.status) == (
        "team", Interval.ANNUAL, 7, S.ACTIVE,
    )  # fmt: skip


def test_renewal_before_the_expiry_day_is_refused() -> None:
    """A period is never renewed early."""
    with pytest.raises(Conflict):
        renew(active(), date(2026, 12, 31))


def test_a_cancelled_subscription_does_not_renew() -> None:
    """Cancel means no renewal."""
    with pytest.raises(Conflict):
        renew(cancelled(), date(2027, 1, 1))


def test_a_change_to_free_takes_effect_at_renewal() -> None:
    """The scheduled Free plan and its seats become current when the next period starts."""
    scheduled = change_plan(active(), plan("team"), plan("free"), 3, CLOUD, licensed_users=2)
    renewed = renew(scheduled, date(2027, 1, 1))
    assert (renewed.plan_id, renewed.seats, renewed.scheduled_plan_id) == ("free", 3, None)


def test_cancel_keeps_the_licence_until_the_period_ends() -> None:
    """A cancelled subscription keeps its period; it just will not renew."""
    sub = cancel(active())
    assert sub.status is S.CANCELLED and sub.period == active().period


def test_a_cancel_can_be_undone_before_the_period_ends() -> None:
    """Resume on the last day of the period makes it active again."""
    assert resume(cancelled(), date(2026, 12, 31)).status is S.ACTIVE


def test_a_cancel_cannot_be_undone_once_the_period_ended() -> None:
    """On the expiry day it is too late to resume."""
    with pytest.raises(Conflict):
        resume(cancelled(), date(2027, 1, 1))


def test_cancelling_twice_or_resuming_an_active_subscription_changes_nothing() -> None:
    """Repeated requests are safe."""
    assert cancel(cancelled()) == cancelled()
    assert resume(active(), TODAY) == active()


def test_a_trial_cannot_be_cancelled() -> None:
    """There is nothing to stop renewing."""
    with pytest.raises(Conflict):
        cancel(trial())


def test_a_failed_payment_makes_the_subscription_past_due() -> None:
    """Past due from the day of the failure."""
    sub = payment_failed(active(), date(2026, 3, 1))
    assert (sub.status, sub.past_due_since) == (S.PAST_DUE, date(2026, 3, 1))


def test_a_second_failure_keeps_the_first_failure_day() -> None:
    """The grace counts from the first failure, so retried webhooks cannot extend it."""
    sub = past_due(since=date(2026, 3, 1))
    assert payment_failed(sub, date(2026, 3, 10)).past_due_since == date(2026, 3, 1)


def test_a_successful_payment_makes_a_past_due_subscription_active() -> None:
    """Paying the open invoice ends past due."""
    sub = payment_succeeded(past_due(since=date(2026, 3, 1)))
    assert (sub.status, sub.past_due_since) == (S.ACTIVE, None)


def test_after_the_grace_a_past_due_subscription_expires() -> None:
    """On day 15 it expires for payment_failed."""
    sub = expire(past_due(since=date(2026, 3, 1)), date(2026, 3, 15))
    assert (sub.status, sub.expiry_reason, sub.expired_on) == (
        S.EXPIRED, ExpiryReason.PAYMENT_FAILED, date(2026, 3, 15),
    )  # fmt: skip


def test_expiry_before_it_is_due_is_refused() -> None:
    """A running trial, an active subscription and a grace still running do not expire."""
    for sub, day in (
        (trial(), TODAY + timedelta(days=27)),
        (active(), date(2027, 6, 1)),
        (past_due(since=date(2026, 3, 1)), date(2026, 3, 14)),
        (cancelled(), date(2026, 12, 31)),
    ):
        with pytest.raises(Conflict):
            expire(sub, day)


def test_when_the_trial_ends_without_a_purchase_the_tenant_is_expired_with_reason_trial_expired() -> None:
    """The expiry records why, so access can say trial_expired."""
    sub = expire(trial(), TODAY + timedelta(days=28))
    assert (sub.status, sub.expiry_reason) == (S.EXPIRED, ExpiryReason.TRIAL_EXPIRED)


def test_a_cancelled_subscription_expires_when_its_period_ends() -> None:
    """On the expiry day a cancelled subscription expires."""
    sub = expire(cancelled(), date(2027, 1, 1))
    assert (sub.status, sub.expiry_reason) == (S.EXPIRED, ExpiryReason.PERIOD_ENDED)


def test_reactivation_restores_an_expired_subscription_at_once_with_a_new_period() -> None:
    """An ended cancelled subscription reactivated on Feb 10 runs from Feb 10 with its old terms."""
    expired = expire(cancelled(), date(2027, 1, 1))
    sub = reactivate(expired, date(2027, 2, 10))
    assert sub.status is S.ACTIVE
    assert sub.period == Period(date(2027, 2, 10), date(2028, 2, 10), 10)
    assert (sub.plan_id, sub.seats) == ("team", 10)


def test_reactivation_after_a_failed_payment_keeps_the_running_period() -> None:
    """Paying the invoice of a period that is still running restores that period."""
    expired = expire(past_due(since=date(2026, 3, 1)), date(2026, 3, 20))
    assert reactivate(expired, date(2026, 3, 25)).period == active().period


def test_an_ended_trial_cannot_be_reactivated_only_bought() -> None:
    """There are no terms to restore after a trial."""
    with pytest.raises(Conflict):
        reactivate(expire(trial(), TODAY + timedelta(days=28)), date(2026, 2, 1))


def test_an_operator_can_extend_a_running_trial() -> None:
    """The trial gets a new end day."""
    sub = extend_trial(trial(), date(2026, 2, 15), today=date(2026, 1, 20))
    assert (sub.status, sub.trial_ends_on) == (S.TRIALING, date(2026, 2, 15))


def test_an_operator_can_reopen_an_ended_trial() -> None:
    """Extending an expired trial makes the tenant trialing again."""
    expired = expire(trial(), date(2026, 1, 29))
    sub = extend_trial(expired, date(2026, 2, 15), today=date(2026, 2, 1))
    assert (sub.status, sub.expiry_reason) == (S.TRIALING, None)


def test_a_trial_cannot_be_extended_into_the_past() -> None:
    """The new end must be after today; ending a trial is end_trial."""
    with pytest.raises(ValidationFailed) as refused:
        extend_trial(trial(), date(2026, 1, 10), today=date(2026, 1, 10))
    assert refused.value.field == "ends_on"


def test_a_paid_subscription_cannot_be_turned_into_a_trial() -> None:
    """Only trials are extended."""
    with pytest.raises(Conflict):
        extend_trial(active(), date(2026, 2, 1), today=TODAY)


def test_an_operator_can_end_a_trial_today() -> None:
    """The trial is expired from today with reason trial_expired."""
    sub = end_trial(trial(), date(2026, 1, 10))
    assert (sub.status, sub.expiry_reason, sub.trial_ends_on) == (
        S.EXPIRED, ExpiryReason.TRIAL_EXPIRED, date(2026, 1, 10),
    )  # fmt: skip

"""Subscription lifecycle: the pure transitions of SPEC §3, each returning a new Subscription.

A transition that makes no sense in the current state raises Conflict; bad input
raises ValidationFailed. Asking for the state a subscription is already in (a
second cancel, a repeated payment webhook) changes nothing, so callers that
retry are safe.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from core.errors import Conflict, ValidationFailed
from core.licensing.deployment import Deployment
from core.licensing.plan_rules import check_new_purchase
from core.licensing.plans import Plan
from core.licensing.subscription import (
    DEFAULT_GRACE_DAYS,
    DEFAULT_TRIAL_DAYS,
    ExpiryReason,
    Subscription,
    SubscriptionStatus,
    unusable_reason,
)
from core.periods import Interval, Period, first_period, period_after

__all__ = [
    "TRIAL_PLAN_ID",
    "cancel",
    "end_trial",
    "expire",
    "extend_trial",
    "payment_failed",
    "payment_succeeded",
    "purchase",
    "reactivate",
    "renew",
    "resume",
    "start_trial",
]

_S = SubscriptionStatus

TRIAL_PLAN_ID = "team"
"""A trial has Team features (and no seat limit)."""


def start_trial(
    today: date, trial_days: int = DEFAULT_TRIAL_DAYS, plan_id: str = TRIAL_PLAN_ID
) -> Subscription:
    """A new tenant's trial: Team features, no seat limit, ending ``trial_days`` days from today."""
    if trial_days < 1:
        raise ValidationFailed("a trial lasts at least one day", field="trial_days")
    return Subscription(plan_id, _S.TRIALING, trial_ends_on=today + timedelta(days=trial_days))


def purchase(
    sub: Subscription,
    plan: Plan,
    interval: Interval,
    seats: int,
    today: date,
    *,
    deployment: Deployment,
) -> Subscription:
    """Buy Now: a trial, an expired subscription or an ended cancelled one becomes active today.

    The first period starts today. A running subscription is changed, not bought again.
    """
    if sub.status in (_S.ACTIVE, _S.PAST_DUE) or (
        sub.status is _S.CANCELLED and unusable_reason(sub, today) is None
    ):
        raise Conflict(
            "This tenant already has a running subscription; change its plan, interval or seats"
            " (or resume it) instead of buying again.",
            status=str(sub.status),
        )
    check_new_purchase(plan, deployment, seats)
    return Subscription(plan.id, _S.ACTIVE, interval, seats, period=first_period(today, interval))


def renew(sub: Subscription, today: date) -> Subscription:
    """The next period of an active subscription whose period has ended, with any scheduled plan."""
    if sub.status is not _S.ACTIVE:
        raise Conflict(f"Only an active subscription renews; this one is {sub.status}.")
    period = _period(sub)
    if today < period.end:
        raise Conflict(f"The period runs until {period.end}; it renews on that day.")
    return replace(
        sub,
        plan_id=sub.scheduled_plan_id or sub.plan_id,
        seats=sub.scheduled_seats or sub.seats,
        period=period_after(period, _interval(sub)),
        scheduled_plan_id=None,
        scheduled_seats=None,
    )


def cancel(sub: Subscription) -> Subscription:
    """Stop renewal; the licence stays valid until the running period ends (no refund)."""
    if sub.status is _S.CANCELLED:
        return sub
    if sub.status is not _S.ACTIVE:
        raise Conflict(f"Only an active subscription can be cancelled; this one is {sub.status}.")
    return replace(sub, status=_S.CANCELLED)


def resume(sub: Subscription, today: date) -> Subscription:
    """Undo a cancel before the period ends; the subscription renews again."""
    if sub.status is _S.ACTIVE:
        return sub
    if sub.status is not _S.CANCELLED:
        raise Conflict(f"Only a cancelled subscription can be resumed; this one is {sub.status}.")
    end = _period(sub).end
    if today >= end:
        raise Conflict(f"The period ended on {end}; buy a new subscription instead.")
    return replace(sub, status=_S.ACTIVE)


def payment_failed(sub: Subscription, today: date) -> Subscription:
    """An invoice could not be paid: past due from today, with access during the grace days."""
    if sub.status is _S.PAST_DUE:
        return sub
    if sub.status is not _S.ACTIVE:
        raise Conflict(f"A failed payment applies to an active subscription; this one is {sub.status}.")
    return replace(sub, status=_S.PAST_DUE, past_due_since=today)


def payment_succeeded(sub: Subscription) -> Subscription:
    """The open invoice of a past-due subscription was paid: active again."""
    if sub.status is _S.ACTIVE:
        return sub
    if sub.status is not _S.PAST_DUE:
        raise Conflict(
            f"A settled payment applies to a past-due subscription; this one is {sub.status}"
            " (an expired one is reactivated)."
        )
    return replace(sub, status=_S.ACTIVE, past_due_since=None)


def expire(sub: Subscription, today: date, grace_days: int = DEFAULT_GRACE_DAYS) -> Subscription:
    """Record the expiry of a trial that ended, a cancelled period that ended, or a grace that ran out."""
    if sub.status is _S.EXPIRED:
        return sub
    reason = unusable_reason(sub, today, grace_days)
    if reason is None:
        raise Conflict(f"This {sub.status} subscription is still valid on {today}.")
    return replace(
        sub,
        status=_S.EXPIRED,
        expired_on=today,
        expiry_reason=reason,
        past_due_since=None,
        scheduled_plan_id=None,
        scheduled_seats=None,
    )


def reactivate(sub: Subscription, today: date) -> Subscription:
    """Restore a paid subscription that expired (or whose cancelled period ended) at once.

    It keeps its plan, interval and seats. A period still running is kept (its
    invoice is now paid); otherwise a new period starts today. An ended trial has
    nothing to restore: it needs a purchase.
    """
    ended = sub.status is _S.EXPIRED or (
        sub.status is _S.CANCELLED and unusable_reason(sub, today) is not None
    )
    if not ended:
        raise Conflict(f"Only an expired subscription is reactivated; this one is {sub.status}.")
    if not sub.is_paid:
        raise Conflict("This tenant has never bought a plan; choose one to buy.")
    running = _period(sub)
    period = running if running.contains(today) else first_period(today, _interval(sub))
    return replace(
        sub,
        status=_S.ACTIVE,
        period=period,
        expired_on=None,
        expiry_reason=None,
        past_due_since=None,
    )


def extend_trial(sub: Subscription, ends_on: date, today: date) -> Subscription:
    """Operator: move the trial's end to ``ends_on`` (after today), reopening an ended trial."""
    if ends_on <= today:
        raise ValidationFailed("a trial must end after today; end it instead", field="ends_on")
    reopen = sub.status is _S.EXPIRED and sub.expiry_reason is ExpiryReason.TRIAL_EXPIRED and not sub.is_paid
    if sub.status is not _S.TRIALING and not reopen:
        raise Conflict(f"Only a trial can be extended; this subscription is {sub.status}.")
    return replace(sub, status=_S.TRIALING, trial_ends_on=ends_on, expired_on=None, expiry_reason=None)


def end_trial(sub: Subscription, today: date) -> Subscription:
    """Operator: end a trial today; the tenant is expired until it buys."""
    if sub.status is not _S.TRIALING:
        raise Conflict(f"Only a running trial can be ended; this subscription is {sub.status}.")
    return replace(
        sub,
        status=_S.EXPIRED,
        trial_ends_on=min(sub.trial_ends_on or today, today),
        expired_on=today,
        expiry_reason=ExpiryReason.TRIAL_EXPIRED,
    )


def _period(sub: Subscription) -> Period:
    # Subscription.__post_init__ guarantees a period for every paid status.
    if sub.period is None:
        raise Conflict(f"This {sub.status} subscription has no period.")
    return sub.period


def _interval(sub: Subscription) -> Interval:
    if sub.interval is None:
        raise Conflict(f"This {sub.status} subscription has no billing interval.")
    return sub.interval

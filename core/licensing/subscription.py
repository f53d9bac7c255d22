"""The subscription: one value that says what a tenant (or enterprise) has paid for and until when.

A :class:`Subscription` is immutable; :mod:`core.licensing.lifecycle` turns one into
the next. Dates are calendar days in the tenant's billing time zone. A trial covers
the days before ``trial_ends_on``; a past-due grace covers the ``grace_days`` days
from ``past_due_since``; a period is ``[start, end)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from types import MappingProxyType

from core.periods import Interval, Period

__all__ = [
    "ALLOWED_TRANSITIONS",
    "DEFAULT_GRACE_DAYS",
    "DEFAULT_TRIAL_DAYS",
    "ExpiryReason",
    "Subscription",
    "SubscriptionStatus",
    "access_ended_on",
    "grace_ends_on",
    "is_allowed_transition",
    "is_usable",
    "trial_days_left",
    "trial_ends_at",
    "unusable_reason",
]

DEFAULT_TRIAL_DAYS = 28
DEFAULT_GRACE_DAYS = 14


class SubscriptionStatus(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"
    """Paid until the period ends, and will not renew."""
    EXPIRED = "expired"


class ExpiryReason(StrEnum):
    """Why a subscription is (or is about to be) expired."""

    TRIAL_EXPIRED = "trial_expired"
    PERIOD_ENDED = "period_ended"
    """A cancelled subscription reached the end of its period."""
    PAYMENT_FAILED = "payment_failed"
    """The past-due grace ran out."""


_S = SubscriptionStatus

ALLOWED_TRANSITIONS: Mapping[SubscriptionStatus, frozenset[SubscriptionStatus]] = MappingProxyType({
    # trialing → trialing: an operator extends the trial.
    _S.TRIALING: frozenset({_S.TRIALING, _S.ACTIVE, _S.EXPIRED}),
    # active → active: renewal and changes of seats, plan or interval.
    _S.ACTIVE: frozenset({_S.ACTIVE, _S.CANCELLED, _S.PAST_DUE}),
    # cancelled → cancelled: seat changes in the rest of the paid period;
    # cancelled → active: resumed before the period ends, or bought anew after it.
    _S.CANCELLED: frozenset({_S.CANCELLED, _S.ACTIVE, _S.EXPIRED}),
    _S.PAST_DUE: frozenset({_S.PAST_DUE, _S.ACTIVE, _S.EXPIRED}),
    # expired → trialing: an operator extends an ended trial.
    _S.EXPIRED: frozenset({_S.ACTIVE, _S.TRIALING}),
})  # fmt: skip
"""Every status change the lifecycle can make; anything else is a bug."""


def is_allowed_transition(before: SubscriptionStatus, after: SubscriptionStatus) -> bool:
    return after in ALLOWED_TRANSITIONS[before]


@dataclass(frozen=True, slots=True)
class Subscription:
    """What is paid for now, and what is scheduled for the next renewal.

    ``seats`` is None during a trial (no seat limit); ``interval``, ``seats`` and
    ``period`` are set from the first purchase on. ``scheduled_plan_id`` and
    ``scheduled_seats`` hold a change to a free plan, which waits for the period end.
    """

    plan_id: str
    status: SubscriptionStatus
    interval: Interval | None = None
    seats: int | None = None
    trial_ends_on: date | None = None
    period: Period | None = None
    past_due_since: date | None = None
    expired_on: date | None = None
    expiry_reason: ExpiryReason | None = None
    scheduled_plan_id: str | None = None
    scheduled_seats: int | None = None

    def __post_init__(self) -> None:
        # A stored row that breaks these is corrupt; failing on load beats guessing.
        problem = _inconsistency(self)
        if problem:
            raise ValueError(f"inconsistent subscription ({self.status}): {problem}")

    @property
    def is_paid(self) -> bool:
        """Whether it has ever been bought (it has a period, interval and seats)."""
        return self.period is not None


def _inconsistency(sub: Subscription) -> str | None:
    if sub.status is _S.TRIALING:
        if sub.trial_ends_on is None:
            return "a trial needs trial_ends_on"
        if sub.seats is not None:
            return "a trial has no seat limit"
    elif sub.status is _S.EXPIRED:
        if sub.expired_on is None or sub.expiry_reason is None:
            return "expired needs expired_on and expiry_reason"
    elif sub.period is None or sub.interval is None or sub.seats is None:
        return "a paid subscription needs period, interval and seats"
    if (sub.status is _S.PAST_DUE) != (sub.past_due_since is not None):
        return "past_due_since is set exactly while past due"
    if sub.seats is not None and sub.seats < 1:
        return "seats must be at least 1"
    if (sub.scheduled_plan_id is None) != (sub.scheduled_seats is None):
        return "a scheduled plan needs its seats"
    return None


def grace_ends_on(sub: Subscription, grace_days: int = DEFAULT_GRACE_DAYS) -> date | None:
    """The first day without access for a past-due subscription; None when not past due."""
    if sub.past_due_since is None:
        return None
    return sub.past_due_since + timedelta(days=grace_days)


def unusable_reason(
    sub: Subscription, today: date, grace_days: int = DEFAULT_GRACE_DAYS
) -> ExpiryReason | None:
    """Why the subscription gives no access today, or None while it does.

    It answers from dates too, so access ends on time even before the background
    job has recorded the expiry. An active subscription past its period end stays
    usable: it renews on that day.
    """
    if sub.status is _S.EXPIRED:
        return sub.expiry_reason
    if sub.status is _S.TRIALING and sub.trial_ends_on is not None and today >= sub.trial_ends_on:
        return ExpiryReason.TRIAL_EXPIRED
    if sub.status is _S.CANCELLED and sub.period is not None and today >= sub.period.end:
        return ExpiryReason.PERIOD_ENDED
    grace_end = grace_ends_on(sub, grace_days)
    if sub.status is _S.PAST_DUE and grace_end is not None and today >= grace_end:
        return ExpiryReason.PAYMENT_FAILED
    return None


def access_ended_on(sub: Subscription, today: date, grace_days: int = DEFAULT_GRACE_DAYS) -> date | None:
    """The first day without access, once access has ended by ``today``; None while it lasts."""
    reason = unusable_reason(sub, today, grace_days)
    if reason is None:
        return None
    if sub.status is _S.EXPIRED:
        return sub.expired_on or today
    day = {
        ExpiryReason.TRIAL_EXPIRED: sub.trial_ends_on,
        ExpiryReason.PERIOD_ENDED: sub.period.end if sub.period else None,
        ExpiryReason.PAYMENT_FAILED: grace_ends_on(sub, grace_days),
    }.get(reason)
    return day or today


def is_usable(sub: Subscription, today: date, grace_days: int = DEFAULT_GRACE_DAYS) -> bool:
    """Trial not ended, active, past due within grace, or cancelled before its period ends."""
    return unusable_reason(sub, today, grace_days) is None


def trial_ends_at(sub: Subscription, time_zone: tzinfo) -> datetime | None:
    """The instant the trial ends: the start of ``trial_ends_on`` in the billing time zone."""
    if sub.trial_ends_on is None:
        return None
    return datetime.combine(sub.trial_ends_on, time(0), tzinfo=time_zone)


_DAY = timedelta(days=1)


def trial_days_left(trial_ends_at: datetime, now: datetime) -> int:
    """Whole days left until the trial ends, partial days rounded up, never negative."""
    left = trial_ends_at - now
    if left <= timedelta(0):
        return 0
    # timedelta // timedelta is exact integer arithmetic; -(-a // b) rounds up.
    return -(-left // _DAY)

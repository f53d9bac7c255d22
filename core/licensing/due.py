"""What the background job must do to a subscription today: renew it, expire it, or nothing.

The job asks :func:`due_transition` and applies the answer with :func:`apply_due`.
Both are pure, and a subscription that has just been moved on has nothing more
due, so running the job twice (or on two workers) changes a subscription once.
A job that was down for a while calls :func:`apply_due` until it says NOTHING,
which renews once per missed period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from core.licensing.lifecycle import expire, renew
from core.licensing.subscription import (
    DEFAULT_GRACE_DAYS,
    ExpiryReason,
    Subscription,
    SubscriptionStatus,
    unusable_reason,
)

__all__ = ["Due", "DueAction", "apply_due", "due_transition"]


class DueAction(StrEnum):
    NOTHING = "nothing"
    RENEW = "renew"
    EXPIRE = "expire"


@dataclass(frozen=True, slots=True)
class Due:
    """One step the lifecycle owes a subscription today; ``reason`` says why it expires."""

    action: DueAction
    reason: ExpiryReason | None = None


NOTHING_DUE = Due(DueAction.NOTHING)


def due_transition(sub: Subscription, today: date, grace_days: int = DEFAULT_GRACE_DAYS) -> Due:
    """Trial ended, cancelled period over, or grace over → expire; active period over → renew."""
    if sub.status is SubscriptionStatus.EXPIRED:
        return NOTHING_DUE
    reason = unusable_reason(sub, today, grace_days)
    if reason is not None:
        return Due(DueAction.EXPIRE, reason)
    if sub.status is SubscriptionStatus.ACTIVE and sub.period is not None and today >= sub.period.end:
        return Due(DueAction.RENEW)
    return NOTHING_DUE


def apply_due(
    sub: Subscription, today: date, grace_days: int = DEFAULT_GRACE_DAYS
) -> tuple[Subscription, Due]:
    """The subscription after today's due step, and the step (so the caller can invoice or notify)."""
    due = due_transition(sub, today, grace_days)
    if due.action is DueAction.RENEW:
        return renew(sub, today), due
    if due.action is DueAction.EXPIRE:
        return expire(sub, today, grace_days), due
    return sub, due

"""Changes to a running subscription: seats, plan and interval (SPEC §4's triggers).

These return the new terms only; :mod:`core.proration` prices the difference
between the old and the new value for the days left. Changes take effect at
once and never move the period — except a change to a free plan, which waits
for the period end (there is nothing to credit for the days already paid).
"""

from __future__ import annotations

from dataclasses import replace

from core.errors import Conflict, ValidationFailed
from core.licensing.deployment import Deployment
from core.licensing.plan_rules import check_plan_change, check_seat_change
from core.licensing.plans import Plan
from core.licensing.subscription import Subscription, SubscriptionStatus
from core.periods import Interval

__all__ = ["cancel_scheduled_change", "change_interval", "change_plan", "change_seats"]

# A cancelled subscription is still paid until its period ends, so its seats may change.
_CHANGEABLE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLED)


def change_seats(sub: Subscription, plan: Plan, seats: int, licensed_users: int) -> Subscription:
    """The same subscription with ``seats`` seats now (refused below the licensed users)."""
    _check_changeable(sub, plan)
    check_seat_change(plan, seats, licensed_users)
    return replace(sub, seats=seats)


def change_plan(
    sub: Subscription,
    current: Plan,
    new: Plan,
    seats: int,
    deployment: Deployment,
    licensed_users: int,
) -> Subscription:
    """Move to ``new`` with ``seats`` seats: at once between paid plans, at the period end to a free one."""
    _check_changeable(sub, current)
    check_plan_change(current, new, deployment, seats, licensed_users)
    if new.id == current.id:
        return replace(sub, seats=seats)
    if new.is_free and not current.is_free:
        return replace(sub, scheduled_plan_id=new.id, scheduled_seats=seats)
    return replace(sub, plan_id=new.id, seats=seats, scheduled_plan_id=None, scheduled_seats=None)


def cancel_scheduled_change(sub: Subscription) -> Subscription:
    """Keep the current plan at the next renewal after all."""
    return replace(sub, scheduled_plan_id=None, scheduled_seats=None)


def change_interval(sub: Subscription, plan: Plan, interval: Interval) -> Subscription:
    """Bill per ``interval`` from now on.

    The remaining days are re-priced at once (the proration reads the new
    interval) and the period keeps its end; the next renewal then runs for the
    new interval, because renewal reads ``interval`` too. So one field carries
    both effects and nothing has to be scheduled.
    """
    _check_changeable(sub, plan)
    return sub if interval is sub.interval else replace(sub, interval=interval)


def _check_changeable(sub: Subscription, plan: Plan) -> None:
    if sub.status not in _CHANGEABLE:
        raise Conflict(
            f"A {sub.status} subscription cannot be changed"
            + (" (buy a plan first)." if sub.status is SubscriptionStatus.TRIALING else "."),
            status=str(sub.status),
        )
    if plan.id != sub.plan_id:
        raise ValidationFailed(f"the subscription is on {sub.plan_id!r}, not {plan.id!r}", field="plan")

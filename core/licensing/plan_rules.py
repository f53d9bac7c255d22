"""What a plan allows: who may choose it, for which deployment, with how many seats.

Every refusal says what was asked, what the plan allows and what to do instead,
because it is shown to the collection admin who is about to pay.
"""

from __future__ import annotations

from core.errors import PlanNotAvailable, SeatLimit, ValidationFailed
from core.licensing.deployment import Deployment
from core.licensing.plans import Plan

__all__ = ["check_new_purchase", "check_plan_change", "check_seat_change"]


def check_new_purchase(plan: Plan, deployment: Deployment, seats: int) -> None:
    """Refuse a new subscription to a legacy plan, the wrong deployment, or a seat count outside its range."""
    if not plan.purchasable:
        raise PlanNotAvailable(
            f"The {plan.name} plan is no longer offered to new subscriptions; "
            "existing subscriptions keep it. Choose another plan.",
            plan=plan.id,
        )
    if deployment not in plan.deployments:
        where = " or ".join(d.display_name for d in sorted(plan.deployments))
        raise PlanNotAvailable(
            f"The {plan.name} plan is not available {deployment.display_name}; it is available {where}.",
            plan=plan.id,
            deployment=str(deployment),
        )
    _check_range(plan, seats)


def check_seat_change(plan: Plan, seats: int, licensed_users: int) -> None:
    """Refuse new seats outside the plan's range or below the users licensed now.

    This is for a subscription that keeps its plan, so a legacy plan accepts it.
    """
    _check_range(plan, seats)
    _check_not_below_licensed(seats, licensed_users)


def check_plan_change(
    current: Plan, new: Plan, deployment: Deployment, seats: int, licensed_users: int
) -> None:
    """Refuse a change of plan that a new subscription could not make, or that drops licensed users.

    Staying on the same plan is a seat change; moving to another plan is choosing
    it anew, so a legacy plan cannot be moved onto.
    """
    if new.id == current.id:
        check_seat_change(current, seats, licensed_users)
        return
    check_new_purchase(new, deployment, seats)
    _check_not_below_licensed(seats, licensed_users)


def _check_range(plan: Plan, seats: int) -> None:
    if not isinstance(seats, int) or isinstance(seats, bool):
        raise ValidationFailed("seats must be a whole number", field="seats")
    if not plan.allows_users(seats):
        raise SeatLimit(
            f"The {plan.name} plan allows {plan.user_range} users; {seats} seats were requested. "
            "Choose a seat count in that range or another plan.",
            plan=plan.id,
            seats=seats,
            min_users=plan.min_users,
            max_users=plan.max_users,
        )


def _check_not_below_licensed(seats: int, licensed_users: int) -> None:
    if seats < licensed_users:
        excess = licensed_users - seats
        raise SeatLimit(
            f"{licensed_users} users are licensed, more than {seats} seats; "
            f"unlicense {excess} {'user' if excess == 1 else 'users'} first.",
            seats=seats,
            licensed_users=licensed_users,
        )

"""Licensing: plans, subscriptions, named-user seats, roles and the one access decision.

Everything here is pure: functions take values and return new values (and what
happened); persistence, billing and HTTP are built on top by the services and
plugins. Offline activation lives in :mod:`core.activation`.
"""

from core.licensing.access import (
    COLLECTION_ADMIN_PAGES,
    AccessContext,
    Action,
    Decision,
    DenialReason,
    decide,
    ensure_allowed,
)
from core.licensing.catalogue import DEFAULT_CATALOGUE, PlanCatalogue
from core.licensing.changes import (
    cancel_scheduled_change,
    change_interval,
    change_plan,
    change_seats,
)
from core.licensing.deployment import Deployment
from core.licensing.due import Due, DueAction, apply_due, due_transition
from core.licensing.lifecycle import (
    TRIAL_PLAN_ID,
    cancel,
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
from core.licensing.plan_dicts import plan_from_dict, plan_to_dict
from core.licensing.plan_rules import check_new_purchase, check_plan_change, check_seat_change
from core.licensing.plans import DEFAULT_PLANS, Plan, PlanScope
from core.licensing.roles import DEFAULT_ROLE, Permission, Role, role_allows, user_may
from core.licensing.seats import (
    RECENT_USE_DAYS,
    AutoLicensing,
    FirstUse,
    FirstUseOutcome,
    PoolKey,
    SeatPool,
    keep_most_recent,
    keep_on_conversion,
    licence_on_first_use,
    pool_key,
    proposed_seats_on_purchase,
    seats_taken,
)
from core.licensing.subscription import (
    ALLOWED_TRANSITIONS,
    DEFAULT_GRACE_DAYS,
    DEFAULT_TRIAL_DAYS,
    ExpiryReason,
    Subscription,
    SubscriptionStatus,
    grace_ends_on,
    is_allowed_transition,
    is_usable,
    trial_days_left,
    trial_ends_at,
    unusable_reason,
)
from core.licensing.trial_banner import Banner, banner

__all__ = [
    "ALLOWED_TRANSITIONS",
    "COLLECTION_ADMIN_PAGES",
    "DEFAULT_CATALOGUE",
    "DEFAULT_GRACE_DAYS",
    "DEFAULT_PLANS",
    "DEFAULT_ROLE",
    "DEFAULT_TRIAL_DAYS",
    "RECENT_USE_DAYS",
    "TRIAL_PLAN_ID",
    "AccessContext",
    "Action",
    "AutoLicensing",
    "Banner",
    "Decision",
    "DenialReason",
    "Deployment",
    "Due",
    "DueAction",
    "ExpiryReason",
    "FirstUse",
    "FirstUseOutcome",
    "Permission",
    "Plan",
    "PlanCatalogue",
    "PlanScope",
    "PoolKey",
    "Role",
    "SeatPool",
    "Subscription",
    "SubscriptionStatus",
    "apply_due",
    "banner",
    "cancel",
    "cancel_scheduled_change",
    "change_interval",
    "change_plan",
    "change_seats",
    "check_new_purchase",
    "check_plan_change",
    "check_seat_change",
    "decide",
    "due_transition",
    "end_trial",
    "ensure_allowed",
    "expire",
    "extend_trial",
    "grace_ends_on",
    "is_allowed_transition",
    "is_usable",
    "keep_most_recent",
    "keep_on_conversion",
    "licence_on_first_use",
    "payment_failed",
    "payment_succeeded",
    "plan_from_dict",
    "plan_to_dict",
    "pool_key",
    "proposed_seats_on_purchase",
    "purchase",
    "reactivate",
    "renew",
    "resume",
    "role_allows",
    "seats_taken",
    "start_trial",
    "trial_days_left",
    "trial_ends_at",
    "unusable_reason",
    "user_may",
]

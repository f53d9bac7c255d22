"""The access decision (SPEC §6): may this user do this now — one answer for pages, API and jobs.

:func:`decide` checks, in this order, and the first that fails is the reason:

1. ``tenant_uninstalled`` — the tenant is uninstalled; nothing runs.
2. ``clock_set_back`` — on-premises, the server's clock reads earlier than a time it
   has already trusted or than its newest activation file's issue time
   (:mod:`core.activation.trusted_time`): every date below would be a lie. As for
   expiry, a collection admin's Subscription page (to see why, and to install a newer
   file) is exempt.
3. ``expired`` / ``trial_expired`` — the subscription gives no access today.
   Only a collection admin's Subscription page (view and buy/reactivate) is exempt.
4. A collection admin's Subscription and User Management pages are allowed
   without a role or a seat (they are not "use" of the product).
5. ``role_none`` — role None may do nothing (hidden in the cloud, a locked door
   on-premises).
6. ``not_permitted`` — the role (or the approval-manager flag) does not grant the
   action, or it is a collection-admin page and the user is not one.
7. ``no_seat`` — the user holds no licence. It comes last so that it means "a
   licence is the only thing missing": a caller may then license on first use
   and ask again, and no seat is spent on a request that would be refused anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import Enum, StrEnum

from core.activation import DEFAULT_TOLERANCE, TrustedTime, clock_set_back
from core.errors import AccessDenied
from core.licensing.deployment import Deployment
from core.licensing.roles import Permission, Role, user_may
from core.licensing.subscription import (
    DEFAULT_GRACE_DAYS,
    ExpiryReason,
    Subscription,
    unusable_reason,
)

__all__ = [
    "COLLECTION_ADMIN_PAGES",
    "AccessContext",
    "Action",
    "Decision",
    "DenialReason",
    "decide",
    "ensure_allowed",
]


class Action(Enum):
    """What a user asks to do; pages and API endpoints each name one."""

    USE_TIME_TAB = "use_time_tab"
    USE_API = "use_api"
    TRACK_TIME = "track_time"
    EDIT_OWN_WORKLOGS = "edit_own_worklogs"
    VIEW_OWN_TIMESHEET = "view_own_timesheet"
    EXPORT_OWN = "export_own"
    SUBMIT_OWN_WEEK = "submit_own_week"
    VIEW_ALL_WORKLOGS = "view_all_worklogs"
    VIEW_REPORTS = "view_reports"
    USE_REPORTING = "use_reporting"
    """Read through the Reporting API (OData); the rows are the visibility rule's."""
    EXPORT_ALL = "export_all"
    MANAGE_BUDGETS = "manage_budgets"
    APPROVE_WEEKS = "approve_weeks"
    LOCK_WEEKS = "lock_weeks"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_RULES = "manage_rules"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    """Read the tenant's security history (sign-ins, tokens, role changes)."""
    VIEW_SUBSCRIPTION = "view_subscription"
    PURCHASE = "purchase"
    """Buy Now, or reactivate an expired subscription."""
    MANAGE_SUBSCRIPTION = "manage_subscription"
    """Change seats, plan or interval; cancel or resume."""
    EXPORT_TENANT_DATA = "export_tenant_data"
    """Download every record of the tenant as one signed archive."""


# None: any role but None will do (opening the tab, calling the API at all).
_PERMISSION: dict[Action, Permission | None] = {
    Action.USE_TIME_TAB: None,
    Action.USE_API: None,
    Action.TRACK_TIME: Permission.TRACK_TIME,
    Action.EDIT_OWN_WORKLOGS: Permission.OWN_WORKLOGS,
    Action.VIEW_OWN_TIMESHEET: Permission.OWN_TIMESHEET,
    Action.EXPORT_OWN: Permission.EXPORT_OWN,
    Action.SUBMIT_OWN_WEEK: Permission.SUBMIT_OWN_WEEK,
    Action.VIEW_ALL_WORKLOGS: Permission.VIEW_ALL_WORKLOGS,
    Action.VIEW_REPORTS: Permission.VIEW_REPORTS,
    Action.USE_REPORTING: Permission.USE_REPORTING,
    Action.EXPORT_ALL: Permission.EXPORT_ALL,
    Action.MANAGE_BUDGETS: Permission.MANAGE_BUDGETS,
    Action.APPROVE_WEEKS: Permission.APPROVE_WEEKS,
    Action.LOCK_WEEKS: Permission.LOCK_WEEKS,
    Action.MANAGE_SETTINGS: Permission.MANAGE_SETTINGS,
    Action.MANAGE_RULES: Permission.MANAGE_RULES,
    Action.MANAGE_USERS: Permission.MANAGE_USERS,
    Action.VIEW_AUDIT: Permission.VIEW_AUDIT,
    Action.EXPORT_TENANT_DATA: Permission.EXPORT_TENANT_DATA,
}

_SUBSCRIPTION_PAGE = frozenset({Action.VIEW_SUBSCRIPTION, Action.PURCHASE, Action.MANAGE_SUBSCRIPTION})
# A tenant's data stays theirs through the retention period: its collection admins can take
# it all out after the subscription has expired (SPEC §3), without buying first.
_OPEN_WHEN_EXPIRED = frozenset({Action.VIEW_SUBSCRIPTION, Action.PURCHASE, Action.EXPORT_TENANT_DATA})
COLLECTION_ADMIN_PAGES = _SUBSCRIPTION_PAGE | {Action.MANAGE_USERS, Action.EXPORT_TENANT_DATA}
"""What a collection admin may do with no role and no seat."""


class DenialReason(StrEnum):
    ROLE_NONE = "role_none"
    NO_SEAT = "no_seat"
    EXPIRED = "expired"
    TRIAL_EXPIRED = "trial_expired"
    NOT_PERMITTED = "not_permitted"
    TENANT_UNINSTALLED = "tenant_uninstalled"
    CLOCK_SET_BACK = "clock_set_back"


_MESSAGES = {
    DenialReason.ROLE_NONE: "This door is locked.",
    DenialReason.NO_SEAT: "No licence is available for you; your administrators have been told.",
    DenialReason.EXPIRED: "The subscription has expired; a collection admin can reactivate it.",
    DenialReason.TRIAL_EXPIRED: "The free trial has ended; a collection admin can buy a plan.",
    DenialReason.NOT_PERMITTED: "Your role does not allow this.",
    DenialReason.TENANT_UNINSTALLED: "The product is not installed here.",
    DenialReason.CLOCK_SET_BACK: "This server's clock appears to have been set back; correct it.",
}


@dataclass(frozen=True, slots=True)
class AccessContext:
    """Everything the decision depends on, for one user of one tenant at one instant."""

    deployment: Deployment
    subscription: Subscription
    now: datetime
    role: Role
    licensed: bool
    collection_admin: bool = False
    approval_manager: bool = False
    tenant_uninstalled: bool = False
    grace_days: int = DEFAULT_GRACE_DAYS
    time_zone: tzinfo = UTC
    """The tenant's billing time zone, which decides what day it is."""
    trusted_time: TrustedTime | None = None
    """What an on-premises server remembers about time; None: the clock is not in question."""
    clock_tolerance: timedelta = DEFAULT_TOLERANCE

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("the access decision needs an aware 'now'")

    @property
    def today(self) -> date:
        return self.now.astimezone(self.time_zone).date()


@dataclass(frozen=True, slots=True)
class Decision:
    """Allowed, or the reason why not; ``hidden`` means the Time tab must not exist for this user."""

    allowed: bool
    reason: DenialReason | None = None
    hidden: bool = False
    detail: str | None = None
    """The refusal's particulars when the reason alone is not enough (a set-back clock's times)."""

    @property
    def payment_required(self) -> bool:
        """Whether paying (buying or reactivating) is what would lift the refusal."""
        return self.reason in (DenialReason.EXPIRED, DenialReason.TRIAL_EXPIRED)

    @property
    def message(self) -> str | None:
        if self.reason is None:
            return None
        return self.detail or _MESSAGES[self.reason]


ALLOWED = Decision(True)


def decide(ctx: AccessContext, action: Action) -> Decision:
    """The one access decision; see the module docstring for the order of the checks."""
    if ctx.tenant_uninstalled:
        return Decision(False, DenialReason.TENANT_UNINSTALLED)
    if ctx.trusted_time is not None and not (ctx.collection_admin and action in _OPEN_WHEN_EXPIRED):
        set_back = clock_set_back(ctx.now, ctx.trusted_time, ctx.clock_tolerance)
        if set_back is not None:
            return Decision(False, DenialReason.CLOCK_SET_BACK, detail=set_back.message)
    # Role None in the cloud never sees the tab, whatever else is wrong.
    hidden = ctx.deployment is Deployment.CLOUD and ctx.role is Role.NONE and not ctx.collection_admin
    expiry = unusable_reason(ctx.subscription, ctx.today, ctx.grace_days)
    if expiry is not None and not (ctx.collection_admin and action in _OPEN_WHEN_EXPIRED):
        reason = DenialReason.TRIAL_EXPIRED if expiry is ExpiryReason.TRIAL_EXPIRED else DenialReason.EXPIRED
        return Decision(False, reason, hidden)
    if ctx.collection_admin and action in COLLECTION_ADMIN_PAGES:
        return ALLOWED
    if ctx.role is Role.NONE:
        return Decision(False, DenialReason.ROLE_NONE, hidden)
    if not _granted(ctx, action):
        return Decision(False, DenialReason.NOT_PERMITTED)
    if not ctx.licensed:
        return Decision(False, DenialReason.NO_SEAT)
    return ALLOWED


def ensure_allowed(ctx: AccessContext, action: Action) -> None:
    """Raise AccessDenied with the decision's reason when ``action`` is not allowed."""
    decision = decide(ctx, action)
    if decision.allowed:
        return
    reason = decision.reason or DenialReason.NOT_PERMITTED
    raise AccessDenied(reason, decision.message or reason, hidden=decision.hidden)


def _granted(ctx: AccessContext, action: Action) -> bool:
    if action in _SUBSCRIPTION_PAGE:
        # Only collection admins open the Subscription page; they returned above.
        return False
    permission = _PERMISSION[action]
    if permission is None:
        return True
    return user_may(ctx.role, permission, approval_manager=ctx.approval_manager)

"""Roles and what each may do (SPEC §6); every role includes the ones below it.

Approving weeks is not in any role: it comes with the approval-manager flag that
an Administrator sets on a user, so :func:`user_may` takes that flag beside the role.
"""

from __future__ import annotations

from enum import Enum, StrEnum

__all__ = ["DEFAULT_ROLE", "Permission", "Role", "role_allows", "user_may"]


class Role(StrEnum):
    """A user's role in one tenant, lowest first."""

    NONE = "none"
    TEAM = "team"
    PRODUCT = "product"
    BUDGET = "budget"
    ADMINISTRATOR = "administrator"

    @property
    def display_name(self) -> str:
        return self.value.capitalize()

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def includes(self, other: Role) -> bool:
        """Whether this role may do everything ``other`` may."""
        return self.rank >= other.rank


_RANKS = {role: rank for rank, role in enumerate(Role)}

DEFAULT_ROLE = Role.TEAM
"""The role a tenant gives every user not given another, until an admin changes it."""


class Permission(Enum):
    """One thing a user may do in the product."""

    TRACK_TIME = "track_time"
    OWN_WORKLOGS = "own_worklogs"
    OWN_TIMESHEET = "own_timesheet"
    EXPORT_OWN = "export_own"
    SUBMIT_OWN_WEEK = "submit_own_week"
    VIEW_ALL_WORKLOGS = "view_all_worklogs"
    VIEW_REPORTS = "view_reports"
    #: Read through the Reporting API (OData); which rows is the visibility rule's
    #: (``core.reporting.visibility``): Team their own worklogs, VIEW_ALL_WORKLOGS everyone's.
    USE_REPORTING = "use_reporting"
    EXPORT_ALL = "export_all"
    MANAGE_BUDGETS = "manage_budgets"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_RULES = "manage_rules"
    MANAGE_USERS = "manage_users"
    LOCK_WEEKS = "lock_weeks"
    APPROVE_WEEKS = "approve_weeks"
    VIEW_AUDIT = "view_audit"
    EXPORT_TENANT_DATA = "export_tenant_data"


# The lowest role that has each permission; APPROVE_WEEKS is absent on purpose.
_LOWEST_ROLE: dict[Permission, Role] = {
    Permission.TRACK_TIME: Role.TEAM,
    Permission.OWN_WORKLOGS: Role.TEAM,
    Permission.OWN_TIMESHEET: Role.TEAM,
    Permission.EXPORT_OWN: Role.TEAM,
    Permission.SUBMIT_OWN_WEEK: Role.TEAM,
    Permission.USE_REPORTING: Role.TEAM,
    Permission.VIEW_ALL_WORKLOGS: Role.PRODUCT,
    Permission.VIEW_REPORTS: Role.PRODUCT,
    Permission.EXPORT_ALL: Role.PRODUCT,
    Permission.MANAGE_BUDGETS: Role.BUDGET,
    Permission.MANAGE_SETTINGS: Role.ADMINISTRATOR,
    Permission.MANAGE_RULES: Role.ADMINISTRATOR,
    Permission.MANAGE_USERS: Role.ADMINISTRATOR,
    Permission.LOCK_WEEKS: Role.ADMINISTRATOR,
    # The security history names every user's sign-ins and addresses: Administrators only.
    Permission.VIEW_AUDIT: Role.ADMINISTRATOR,
    # Every record of the tenant, people and invoices included: Administrators (and the
    # collection admins, who own the organisation; see access.COLLECTION_ADMIN_PAGES).
    Permission.EXPORT_TENANT_DATA: Role.ADMINISTRATOR,
}


def role_allows(role: Role, permission: Permission) -> bool:
    """Whether ``role`` alone grants ``permission`` (never APPROVE_WEEKS, which is a flag)."""
    lowest = _LOWEST_ROLE.get(permission)
    return lowest is not None and role.includes(lowest)


def user_may(role: Role, permission: Permission, *, approval_manager: bool = False) -> bool:
    """Whether a user with this role and approval-manager flag has ``permission``.

    The flag grants approving weeks to any role but None: None may do nothing at all.
    """
    if permission is Permission.APPROVE_WEEKS:
        return approval_manager and role is not Role.NONE
    return role_allows(role, permission)

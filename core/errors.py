"""Domain errors, each with a stable snake_case ``code`` that clients can rely on.

The core does not know HTTP: the web layer maps each error class to a status.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccessDenied",
    "Conflict",
    "DeactivateSelf",
    "InvalidCredentials",
    "LastAdministrator",
    "NotFound",
    "PayoutRefused",
    "PlanNotAvailable",
    "SeatLimit",
    "StintError",
    "SubscriptionShared",
    "TenantExists",
    "TimerRunning",
    "UserInactive",
    "UserNotFound",
    "ValidationFailed",
    "WeekLocked",
]


class StintError(Exception):
    """Base of every error the domain raises on purpose."""

    code: ClassVar[str] = "error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationFailed(StintError):
    """Input that breaks a rule; ``field`` names what was wrong when known."""

    code = "validation_error"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.field = field


class NotFound(StintError):
    code = "not_found"


class UserNotFound(NotFound):
    """No such user in the caller's tenant; another tenant's user is exactly as absent."""

    code = "user_not_found"


class Conflict(StintError):
    code = "conflict"


class TenantExists(Conflict):
    code = "tenant_exists"


class TimerRunning(Conflict):
    """The week's owner has a timer running inside it: locking the week now would leave the
    timer's worklog nowhere to go (SPEC §8: nothing adds a worklog to a locked week)."""

    code = "timer_running"


class LastAdministrator(Conflict):
    """The change would leave the tenant with no one to manage it (and undo the change)."""

    code = "last_administrator"


class DeactivateSelf(Conflict):
    """An Administrator cannot deactivate themselves (someone else must)."""

    code = "deactivate_self"


class UserInactive(Conflict):
    """The user is deactivated: reactivate them first."""

    code = "user_inactive"


class SubscriptionShared(Conflict):
    """The change would strand other tenants that share the subscription (an enterprise-wide plan)."""

    code = "subscription_shared"


class ManagedByActivation(Conflict):
    """An activated on-premises server's licence comes from its activation, not from here."""

    code = "managed_by_activation"


class InvalidCredentials(StintError):
    code = "invalid_credentials"


class PlanNotAvailable(StintError):
    code = "plan_not_available"


class SeatLimit(StintError):
    code = "seat_limit"


class PayoutRefused(StintError):
    code = "payout_refused"


class WeekLocked(StintError):
    code = "week_locked"


class AccessDenied(StintError):
    """The access decision said no; ``code`` is its reason (``expired``, ``role_none`` …)."""

    def __init__(self, reason: str, detail: str, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.reason = reason

    @property
    def code(self) -> str:  # type: ignore[override]
        return self.reason

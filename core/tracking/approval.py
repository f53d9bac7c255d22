"""Approval of weeks: the owner submits, an approval manager approves, rejects or closes.

Rejecting *reopens* the week: the owner can change it and submit it again. A
manager may also reopen an approved or closed week by rejecting it, since
otherwise a mistake in an approved week could never be corrected. A transition
that the current status does not allow is a Conflict (someone else got there
first, or the page is stale); the wrong person asking is AccessDenied.
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import AccessDenied, Conflict

__all__ = [
    "LOCKED_STATUSES",
    "WeekStatus",
    "approve_week",
    "close_week",
    "reject_week",
    "submit_week",
]


class WeekStatus(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    CLOSED = "closed"


LOCKED_STATUSES = frozenset({WeekStatus.APPROVED, WeekStatus.CLOSED})
"""SPEC: approved and closed weeks are locked."""


def _move(status: WeekStatus, allowed_from: frozenset[WeekStatus], to: WeekStatus) -> WeekStatus:
    if status not in allowed_from:
        raise Conflict(f"a week that is {status} cannot become {to}", week_status=str(status))
    return to


def submit_week(status: WeekStatus, *, actor_id: str, owner_id: str) -> WeekStatus:
    """The owner hands an open (or reopened) week to the approval managers."""
    if actor_id != owner_id:
        raise AccessDenied("not_permitted", "only the owner of a week can submit it")
    return _move(status, frozenset({WeekStatus.OPEN, WeekStatus.REJECTED}), WeekStatus.SUBMITTED)


def _require_manager(actor_is_approval_manager: bool, action: str) -> None:
    if not actor_is_approval_manager:
        raise AccessDenied("not_permitted", f"only an approval manager can {action} a week")


def approve_week(status: WeekStatus, *, actor_is_approval_manager: bool) -> WeekStatus:
    """A submitted week is approved, and so locked."""
    _require_manager(actor_is_approval_manager, "approve")
    return _move(status, frozenset({WeekStatus.SUBMITTED}), WeekStatus.APPROVED)


def reject_week(status: WeekStatus, *, actor_is_approval_manager: bool) -> WeekStatus:
    """Reopen a submitted, approved or closed week for its owner."""
    _require_manager(actor_is_approval_manager, "reject")
    allowed = frozenset({WeekStatus.SUBMITTED, WeekStatus.APPROVED, WeekStatus.CLOSED})
    return _move(status, allowed, WeekStatus.REJECTED)


def close_week(status: WeekStatus, *, actor_is_approval_manager: bool) -> WeekStatus:
    """Lock a week whatever its state, for example at the end of a billing month."""
    _require_manager(actor_is_approval_manager, "close")
    allowed = frozenset(set(WeekStatus) - {WeekStatus.CLOSED})
    return _move(status, allowed, WeekStatus.CLOSED)

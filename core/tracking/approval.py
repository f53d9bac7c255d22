"""Approval of weeks: the owner submits, one of their approvers decides.

Who decides a user's weeks (:func:`may_decide`): a *global approval manager* (the
``approval_manager`` flag; they see and decide everyone's weeks) or one of the user's own
*approvers* (a list kept per user). An approver decides the weeks of the people who name
them, nobody else's.

The owner submits (and may revoke the submission until it is decided); an approver
approves (the week locks), rejects it with a note for the owner (the owner can change it
and submit it again), closes it (locks it whatever its state) or reopens an approved or
closed week, since otherwise a mistake in an approved week could never be corrected. A
transition that the current status does not allow is a Conflict (someone else got there
first, or the page is stale); the wrong person asking is AccessDenied.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.errors import AccessDenied, Conflict, ValidationFailed

__all__ = [
    "LOCKED_STATUSES",
    "MAX_NOTE_LENGTH",
    "WeekRecord",
    "WeekStatus",
    "approve_week",
    "check_note",
    "close_week",
    "may_decide",
    "reject_week",
    "reopen_week",
    "revoke_week",
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

MAX_NOTE_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class WeekRecord:
    """A user's week as stored: its status and the particulars of the last steps."""

    user_id: str
    week: str
    status: WeekStatus = WeekStatus.OPEN
    submitted_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    #: Why it was rejected, for the owner (None unless the week is rejected).
    note: str | None = None


def may_decide(
    actor_id: str, *, actor_is_global_manager: bool, owner_id: str, owner_approvers: Collection[str]
) -> bool:
    """Whether ``actor_id`` may approve, reject, close or reopen ``owner_id``'s weeks."""
    if actor_is_global_manager:
        # A global approval manager answers for everyone's time, their own included: a
        # tenant's only manager (often the founder who signed up) would otherwise have
        # nobody to approve their weeks.
        return True
    # Anyone else approving their own week would be marking their own homework, so being
    # on one's own approver list grants nothing.
    return actor_id != owner_id and actor_id in owner_approvers


def _move(status: WeekStatus, allowed_from: frozenset[WeekStatus], to: WeekStatus) -> WeekStatus:
    if status not in allowed_from:
        raise Conflict(f"a week that is {status} cannot become {to}", week_status=str(status))
    return to


def submit_week(status: WeekStatus, *, actor_id: str, owner_id: str) -> WeekStatus:
    """The owner hands an open (or rejected) week to their approvers."""
    if actor_id != owner_id:
        raise AccessDenied("not_permitted", "only the owner of a week can submit it")
    return _move(status, frozenset({WeekStatus.OPEN, WeekStatus.REJECTED}), WeekStatus.SUBMITTED)


def revoke_week(status: WeekStatus, *, actor_id: str, owner_id: str) -> WeekStatus:
    """The owner takes back a submission nobody has decided yet."""
    if actor_id != owner_id:
        raise AccessDenied("not_permitted", "only the owner of a week can revoke its submission")
    return _move(status, frozenset({WeekStatus.SUBMITTED}), WeekStatus.OPEN)


def _require_decider(may: bool, action: str) -> None:
    if not may:
        raise AccessDenied(
            "not_permitted", f"only a global approval manager or this user's approver can {action} the week"
        )


def approve_week(status: WeekStatus, *, may_decide: bool) -> WeekStatus:
    """A submitted week is approved, and so locked."""
    _require_decider(may_decide, "approve")
    return _move(status, frozenset({WeekStatus.SUBMITTED}), WeekStatus.APPROVED)


def check_note(note: str | None) -> str:
    """A rejection's note, trimmed: required, since the owner must learn what to fix."""
    text = (note or "").strip()
    if not text:
        raise ValidationFailed("a rejection needs a note telling the owner what to fix", field="note")
    if len(text) > MAX_NOTE_LENGTH:
        raise ValidationFailed(f"the note is longer than {MAX_NOTE_LENGTH} characters", field="note")
    return text


def reject_week(status: WeekStatus, *, may_decide: bool) -> WeekStatus:
    """Send a submitted (or approved, or closed) week back to its owner."""
    _require_decider(may_decide, "reject")
    allowed = frozenset({WeekStatus.SUBMITTED, WeekStatus.APPROVED, WeekStatus.CLOSED})
    return _move(status, allowed, WeekStatus.REJECTED)


def reopen_week(status: WeekStatus, *, may_decide: bool, locked_by_date: bool = False) -> WeekStatus:
    """Unlock an approved or closed week: it is open again, for its owner to change.

    A week the calendar locks (the lock date, the approval settings) would stay locked
    whatever its status, so reopening it is refused rather than done to no effect."""
    _require_decider(may_decide, "reopen")
    if locked_by_date:
        raise Conflict(
            "the week is locked by its date (the lock date or the approval settings); an "
            "administrator changes those first", week_status=str(status),
        )
    return _move(status, frozenset({WeekStatus.APPROVED, WeekStatus.CLOSED}), WeekStatus.OPEN)


def close_week(status: WeekStatus, *, may_decide: bool) -> WeekStatus:
    """Lock a week whatever its state, for example at the end of a billing month."""
    _require_decider(may_decide, "close")
    allowed = frozenset(set(WeekStatus) - {WeekStatus.CLOSED})
    return _move(status, allowed, WeekStatus.CLOSED)

"""Approval of weeks: submit, approve, reject (reopen), close."""

from __future__ import annotations

import pytest

from core.errors import AccessDenied, Conflict
from core.tracking import WeekStatus, approve_week, close_week, reject_week, submit_week
from tests.unit.tracking.factories import MANAGER, OWNER

S = WeekStatus


def test_a_week_goes_from_open_to_submitted_to_approved() -> None:
    """The owner submits, an approval manager approves."""
    submitted = submit_week(S.OPEN, actor_id=OWNER, owner_id=OWNER)
    assert submitted is S.SUBMITTED
    assert approve_week(submitted, may_decide=True) is S.APPROVED


def test_a_rejected_week_is_reopened_and_can_be_submitted_again() -> None:
    """Reject means reopen."""
    rejected = reject_week(S.SUBMITTED, may_decide=True)
    assert rejected is S.REJECTED
    assert submit_week(rejected, actor_id=OWNER, owner_id=OWNER) is S.SUBMITTED


@pytest.mark.parametrize("status", [S.APPROVED, S.CLOSED])
def test_a_manager_can_reopen_an_approved_or_closed_week(status: WeekStatus) -> None:
    """Otherwise a mistake in an approved week could never be fixed."""
    assert reject_week(status, may_decide=True) is S.REJECTED


@pytest.mark.parametrize("status", [S.OPEN, S.SUBMITTED, S.REJECTED, S.APPROVED])
def test_a_manager_can_close_a_week_in_any_state(status: WeekStatus) -> None:
    """Closing locks the week whatever it was."""
    assert close_week(status, may_decide=True) is S.CLOSED


def test_only_the_owner_submits_their_week() -> None:
    """A manager cannot submit someone else's week."""
    with pytest.raises(AccessDenied) as caught:
        submit_week(S.OPEN, actor_id=MANAGER, owner_id=OWNER)
    assert caught.value.code == "not_permitted"


@pytest.mark.parametrize("action", [approve_week, reject_week, close_week])
def test_only_an_approval_manager_approves_rejects_or_closes(action: object) -> None:
    """Without the approval-manager flag every decision is refused."""
    with pytest.raises(AccessDenied):
        action(S.SUBMITTED, may_decide=False)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.OPEN, lambda s: approve_week(s, may_decide=True)),
        (S.APPROVED, lambda s: approve_week(s, may_decide=True)),
        (S.OPEN, lambda s: reject_week(s, may_decide=True)),
        (S.CLOSED, lambda s: close_week(s, may_decide=True)),
        (S.SUBMITTED, lambda s: submit_week(s, actor_id=OWNER, owner_id=OWNER)),
        (S.APPROVED, lambda s: submit_week(s, actor_id=OWNER, owner_id=OWNER)),
    ],
)
def test_a_transition_the_status_does_not_allow_is_a_conflict(status: WeekStatus, action: object) -> None:
    """Approving an open week, submitting an approved one and so on are refused."""
    with pytest.raises(Conflict):
        action(status)  # type: ignore[operator]

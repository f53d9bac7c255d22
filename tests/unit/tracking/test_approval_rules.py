"""Who decides a week, revoking and reopening, the rejection note, and the calendar locks
of the approval settings (core/tracking/approval.py, core/tracking/locking.py)."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import AccessDenied, Conflict, ValidationFailed, WeekLocked
from core.tracking import (
    LockPolicy,
    WeekStatus,
    check_note,
    ensure_unlocked,
    may_decide,
    reopen_week,
    revoke_week,
)

S = WeekStatus


def test_a_global_approval_manager_decides_everyones_weeks_their_own_too() -> None:
    assert may_decide("max", actor_is_global_manager=True, owner_id="ann", owner_approvers=[])
    assert may_decide("max", actor_is_global_manager=True, owner_id="max", owner_approvers=[])


def test_an_approver_decides_only_the_weeks_of_the_people_who_name_them() -> None:
    assert may_decide("pam", actor_is_global_manager=False, owner_id="ann", owner_approvers=["pam"])
    assert not may_decide("pam", actor_is_global_manager=False, owner_id="bob", owner_approvers=["max"])


def test_nobody_but_a_global_manager_approves_their_own_week_even_when_listed() -> None:
    assert not may_decide("pam", actor_is_global_manager=False, owner_id="pam", owner_approvers=["pam"])


def test_the_owner_revokes_a_submission_nobody_decided_yet() -> None:
    assert revoke_week(S.SUBMITTED, actor_id="ann", owner_id="ann") is S.OPEN


@pytest.mark.parametrize("status", [S.OPEN, S.APPROVED, S.REJECTED, S.CLOSED])
def test_a_decided_or_unsubmitted_week_cannot_be_revoked(status: WeekStatus) -> None:
    with pytest.raises(Conflict):
        revoke_week(status, actor_id="ann", owner_id="ann")


def test_only_the_owner_revokes() -> None:
    with pytest.raises(AccessDenied):
        revoke_week(S.SUBMITTED, actor_id="max", owner_id="ann")


@pytest.mark.parametrize("status", [S.APPROVED, S.CLOSED])
def test_reopening_an_approved_or_closed_week_opens_it(status: WeekStatus) -> None:
    assert reopen_week(status, may_decide=True) is S.OPEN


def test_reopening_a_week_that_is_not_locked_is_a_conflict_and_a_stranger_is_refused() -> None:
    with pytest.raises(Conflict):
        reopen_week(S.SUBMITTED, may_decide=True)
    with pytest.raises(AccessDenied):
        reopen_week(S.APPROVED, may_decide=False)


def test_a_week_locked_by_its_date_is_not_reopened_to_no_effect() -> None:
    with pytest.raises(Conflict):
        reopen_week(S.CLOSED, may_decide=True, locked_by_date=True)


@pytest.mark.parametrize("note", [None, "", "   \n"])
def test_a_rejection_without_a_note_is_refused(note: str | None) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_note(note)
    assert refused.value.field == "note"


def test_a_rejection_note_is_kept_trimmed() -> None:
    assert check_note("  Tuesday is missing \n") == "Tuesday is missing"


# The calendar locks: 2026-03-09 is a Monday, 2026-03-15 a Sunday.


def test_weeks_ending_before_the_approval_start_date_are_locked() -> None:
    policy = LockPolicy(approval_start=date(2026, 3, 11)).as_of(date(2026, 3, 11))
    assert policy.locked_until == date(2026, 3, 8)
    with pytest.raises(WeekLocked):
        ensure_unlocked(date(2026, 3, 8), S.OPEN, policy)
    ensure_unlocked(date(2026, 3, 9), S.OPEN, policy)


def test_a_week_locks_n_days_after_its_sunday_and_not_before() -> None:
    policy = LockPolicy(auto_lock_after_days=2)
    # The week of 9–15 March ends on the 15th: on the 17th (2 days after) it is still open …
    assert policy.as_of(date(2026, 3, 17)).locked_until == date(2026, 3, 8)
    # … and on the 18th it is locked.
    assert policy.as_of(date(2026, 3, 18)).locked_until == date(2026, 3, 15)


def test_zero_days_locks_a_week_on_the_monday_after_it() -> None:
    assert LockPolicy(auto_lock_after_days=0).as_of(date(2026, 3, 16)).locked_until == date(2026, 3, 15)


def test_an_administrators_later_lock_date_wins_over_the_calendar() -> None:
    policy = LockPolicy(locked_until=date(2026, 3, 12), auto_lock_after_days=0)
    assert policy.as_of(date(2026, 3, 10)).locked_until == date(2026, 3, 12)


def test_without_approval_settings_nothing_changes() -> None:
    assert LockPolicy().as_of(date(2026, 3, 10)) == LockPolicy()

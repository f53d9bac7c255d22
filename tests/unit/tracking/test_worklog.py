"""Worklogs: invariants, who may edit, and what an edit records."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.errors import AccessDenied, ValidationFailed
from core.tracking import (
    DATE_RANGE,
    KEEP,
    MAX_COMMENT_LENGTH,
    StopReason,
    TrackDraft,
    Worklog,
    WorklogChanges,
    WorklogFlag,
    create_worklog,
    draft_from_track,
    draft_worklog,
    edit,
    ensure_may_edit,
    may_edit,
)
from tests.unit.tracking.factories import MANAGER, OWNER, STRANGER, a_worklog, utc

START = utc(2026, 1, 14, 9)


def test_a_new_worklog_is_normalised_and_flagged_by_its_origin() -> None:
    """Blank text becomes None, the owner added it by default, billable is a flag too."""
    draft = draft_worklog(
        OWNER, START, 1800, billable_length_s=900, work_item="  42 ", comment="  ",
        activity_type="",
    )
    assert (draft.work_item, draft.comment, draft.activity_type) == ("42", None, None)
    assert draft.added_by == OWNER
    assert draft.flags == {WorklogFlag.MANUAL, WorklogFlag.BILLABLE}
    worklog = create_worklog(draft, "w9")
    assert worklog.id == "w9" and not worklog.owner_edited


def test_comment_line_endings_are_stored_as_newlines() -> None:
    """Spreadsheets keep no carriage returns, so neither do worklogs."""
    assert draft_worklog(OWNER, START, 60, comment="a\r\nb\rc").comment == "a\nb\nc"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"length_s": 0}, "length_s"),
        ({"length_s": 24 * 3600 + 1}, "length_s"),
        ({"length_s": -5}, "length_s"),
        ({"billable_length_s": 3601}, "billable_length_s"),
        ({"billable_length_s": -1}, "billable_length_s"),
        ({"comment": "x" * (MAX_COMMENT_LENGTH + 1)}, "comment"),
        ({"comment": "bell \x07"}, "comment"),
        ({"work_item": "x" * 201}, "work_item"),
        ({"work_item": "a\nb"}, "work_item"),
        ({"started_at": datetime(2026, 1, 14, 9)}, "started_at"),
    ],
)
def test_a_worklog_that_breaks_a_rule_is_refused(changes: dict[str, object], field: str) -> None:
    """Lengths are 0 < s ≤ 24 h, billable ≤ length, text is capped, times have a zone."""
    values: dict[str, object] = {"user_id": OWNER, "started_at": START, "length_s": 3600} | changes
    with pytest.raises(ValidationFailed) as caught:
        draft_worklog(**values)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_a_full_day_is_the_longest_worklog() -> None:
    """Exactly 24 hours is allowed."""
    assert draft_worklog(OWNER, START, 24 * 3600).length_s == 86400


def test_a_billable_flag_without_billable_time_is_refused() -> None:
    """The flag and the billable length are one fact and must agree."""
    worklog = a_worklog()
    with pytest.raises(ValidationFailed):
        flags = frozenset({WorklogFlag.MANUAL, WorklogFlag.BILLABLE})
        Worklog(**{**_fields(worklog), "flags": flags})


def test_a_worklog_has_exactly_one_origin() -> None:
    """Tracked, manual, imported or from the API: one of them."""
    with pytest.raises(ValidationFailed):
        flags = frozenset({WorklogFlag.MANUAL, WorklogFlag.TRACKED})
        Worklog(**{**_fields(a_worklog()), "flags": flags})


def _fields(worklog: Worklog) -> dict[str, object]:
    return {name: getattr(worklog, name) for name in Worklog.__slots__}  # type: ignore[attr-defined]


def test_a_stopped_timer_becomes_a_tracked_worklog() -> None:
    """The track's start, length, work item, comment and activity type carry over; it is
    billable in full when its activity type is billable by default."""
    track = TrackDraft(
        OWNER, START, 1500, "7", "fix", StopReason.USER,
        activity_type_id="at1", activity_type="Testing", billable=True,
    )
    draft = draft_from_track(track)
    assert draft.flags == {WorklogFlag.TRACKED, WorklogFlag.BILLABLE}
    assert (draft.started_at, draft.length_s, draft.billable_length_s) == (START, 1500, 1500)
    assert (draft.work_item, draft.comment, draft.activity_type) == ("7", "fix", "Testing")
    assert draft.activity_type_id == "at1"
    plain = TrackDraft(OWNER, START, 1500, "7", "fix", StopReason.USER)
    assert draft_from_track(plain).flags == {WorklogFlag.TRACKED}


def test_a_zero_length_track_leaves_no_worklog() -> None:
    """Start then stop within a second: nothing to store, and building one says so."""
    with pytest.raises(ValidationFailed):
        draft_from_track(TrackDraft(OWNER, START, 0, None, None, StopReason.USER))


def test_the_owner_may_always_edit_their_worklog() -> None:
    """Owners edit their own worklogs, whoever added them."""
    assert may_edit(a_worklog(added_by=MANAGER), OWNER, actor_can_edit_others=False)


def test_a_worklog_added_for_another_user_can_be_edited_by_both_until_its_owner_edits_it() -> None:
    """SPEC: the adder keeps editing rights only until the owner edits the worklog."""
    worklog = a_worklog(added_by=MANAGER)
    assert may_edit(worklog, MANAGER, actor_can_edit_others=False)
    by_adder = edit(worklog, MANAGER, WorklogChanges(comment="adder"))
    assert may_edit(by_adder, MANAGER, actor_can_edit_others=False)
    by_owner = edit(by_adder, OWNER, WorklogChanges(comment="mine now"))
    assert by_owner.owner_edited
    assert may_edit(by_owner, OWNER, actor_can_edit_others=False)
    assert not may_edit(by_owner, MANAGER, actor_can_edit_others=False)
    with pytest.raises(AccessDenied) as caught:
        edit(by_owner, MANAGER, WorklogChanges(comment="again"))
    assert caught.value.code == "not_permitted"


def test_a_role_that_edits_everyones_worklogs_keeps_that_right_after_the_owner_edits() -> None:
    """Administrators are not bound by the added-by rule."""
    by_owner = edit(a_worklog(added_by=MANAGER), OWNER, WorklogChanges(length_s=60))
    assert may_edit(by_owner, STRANGER, actor_can_edit_others=True)
    edited = edit(by_owner, STRANGER, WorklogChanges(length_s=120), actor_can_edit_others=True)
    assert edited.length_s == 120


def test_someone_else_may_not_edit_or_delete_a_worklog() -> None:
    """Neither owner, adder nor a role that edits others: refused."""
    worklog = a_worklog()
    assert not may_edit(worklog, STRANGER, actor_can_edit_others=False)
    with pytest.raises(AccessDenied):
        ensure_may_edit(worklog, STRANGER, actor_can_edit_others=False)


def test_an_edit_sets_the_changed_flag_and_keeps_the_origin() -> None:
    """Changed is added, the origin stays, billable follows the billable length."""
    worklog = a_worklog(origin=WorklogFlag.TRACKED)
    changes = WorklogChanges(billable_length_s=600, started_at=START + timedelta(hours=1))
    edited = edit(worklog, OWNER, changes)
    assert edited.flags == {WorklogFlag.TRACKED, WorklogFlag.CHANGED, WorklogFlag.BILLABLE}
    assert edited.started_at == START + timedelta(hours=1)
    unbilled = edit(edited, OWNER, WorklogChanges(billable_length_s=0))
    assert WorklogFlag.BILLABLE not in unbilled.flags


def test_an_edit_can_clear_a_field_and_leaves_the_others_as_they_were() -> None:
    """None is a value ("no work item"); KEEP leaves a field alone."""
    worklog = a_worklog()
    edited = edit(worklog, OWNER, WorklogChanges(work_item=None, comment=KEEP))
    assert edited.work_item is None
    assert (edited.comment, edited.length_s, edited.activity_type) == (
        worklog.comment, worklog.length_s, worklog.activity_type,
    )


def test_an_edit_that_changes_nothing_returns_the_worklog_unchanged() -> None:
    """No changed flag for saving the same values."""
    worklog = a_worklog()
    assert edit(worklog, OWNER, WorklogChanges(comment=worklog.comment)) is worklog


def test_an_edit_that_breaks_a_rule_is_refused() -> None:
    """Edits go through the same invariants as new worklogs."""
    with pytest.raises(ValidationFailed):
        edit(a_worklog(billable_length_s=3000), OWNER, WorklogChanges(length_s=60))


@pytest.mark.parametrize(
    ("started_at", "length_s"),
    [
        (datetime.fromisoformat("0001-01-01T00:00:00+14:00"), 3600),  # year 0 in UTC
        (datetime.fromisoformat("9999-12-31T23:00:00-05:00"), 3600),  # year 10000 in UTC
        (datetime.fromisoformat("1969-12-31T23:59:59+00:00"), 60),
        (datetime.fromisoformat("1970-01-01T00:30:00+01:00"), 60),  # 1969 in UTC
        (datetime.fromisoformat("2999-12-31T23:00:00+00:00"), 3601),  # ends in 3000
        (datetime.fromisoformat("9999-12-31T23:00:00+00:00"), 7200),
    ],
)
def test_refuses_worklogs_starting_or_ending_outside_1970_to_2999(
    started_at: datetime, length_s: int
) -> None:
    """Both ends of a worklog lie between 1970-01-01 and 2999-12-31 (UTC); the reason says so."""
    with pytest.raises(ValidationFailed) as caught:
        draft_worklog(OWNER, started_at, length_s)
    assert caught.value.field == "started_at"
    assert DATE_RANGE in caught.value.detail


def test_worklogs_at_the_very_edges_of_the_range_are_accepted() -> None:
    """From the first instant of 1970 to one ending exactly as 2999 ends."""
    assert draft_worklog(OWNER, utc(1970, 1, 1, 0), 60).started_at == utc(1970, 1, 1, 0)
    assert draft_worklog(OWNER, utc(2999, 12, 31, 23), 3600).length_s == 3600


def test_refuses_an_edit_that_moves_a_worklog_out_of_the_range() -> None:
    """Moving a worklog to the year 9999 is refused like adding one there."""
    worklog = a_worklog(started_at=START)
    for changes in (
        WorklogChanges(started_at=datetime.fromisoformat("9999-12-31T23:00:00-05:00")),
        WorklogChanges(started_at=utc(2999, 12, 31, 23), length_s=7200),
    ):
        with pytest.raises(ValidationFailed) as caught:
            edit(worklog, OWNER, changes)
        assert DATE_RANGE in caught.value.detail


def test_a_worklog_created_from_a_draft_equals_one_built_field_by_field_and_stays_frozen() -> None:
    """create_worklog skips the second check of an already-checked draft; the result is the same value."""
    draft = draft_worklog(OWNER, START, 5400, added_by=MANAGER, origin=WorklogFlag.IMPORTED,
                          billable_length_s=1800, work_item="42", comment="review", activity_type="Dev")

    worklog = create_worklog(draft, "w9")

    assert worklog == Worklog(id="w9", user_id=OWNER, started_at=START, length_s=5400, billable_length_s=1800,
                              work_item="42", comment="review", activity_type="Dev", added_by=MANAGER,
                              flags=frozenset({WorklogFlag.IMPORTED, WorklogFlag.BILLABLE}))
    with pytest.raises(AttributeError):
        worklog.length_s = 1  # type: ignore[misc]

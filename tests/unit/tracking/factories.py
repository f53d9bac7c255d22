"""Small builders shared by the tracking tests."""

from __future__ import annotations

from datetime import UTC, datetime

from core.tracking import Worklog, WorklogFlag, create_worklog, draft_worklog

OWNER = "u-owner"
MANAGER = "u-manager"
STRANGER = "u-stranger"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def a_worklog(
    *,
    worklog_id: str = "w1",
    user_id: str = OWNER,
    started_at: datetime | None = None,
    length_s: int = 3600,
    billable_length_s: int = 0,
    work_item: str | None = "123",
    comment: str | None = "code review",
    activity_type: str | None = "Development",
    added_by: str | None = None,
    origin: WorklogFlag = WorklogFlag.MANUAL,
) -> Worklog:
    draft = draft_worklog(
        user_id,
        started_at or utc(2026, 1, 14, 9),
        length_s,
        added_by=added_by,
        origin=origin,
        billable_length_s=billable_length_s,
        work_item=work_item,
        comment=comment,
        activity_type=activity_type,
    )
    return create_worklog(draft, worklog_id)


USERS = {"u-ann": "ann@example.com", "u-bob": "Bob.Smith@Example.org", "u-eq": "=eq@example.com"}
"""user id → e-mail, as the export needs; the import needs the reverse."""
EMAILS = {email: user_id for user_id, email in USERS.items()}

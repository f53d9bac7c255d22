"""Field rules shared by timers, worklogs and import rows: flags, limits, clean text, UTC.

Blank optional text is stored as ``None`` so that "no comment" has exactly one
spelling; that is what makes export → import round trips exact.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from core.errors import ValidationFailed

__all__ = [
    "DATE_RANGE",
    "FIRST_DAY",
    "LAST_DAY",
    "MAX_COMMENT_LENGTH",
    "MAX_LENGTH_S",
    "MAX_NAME_LENGTH",
    "WorklogFlag",
    "check_comment",
    "check_day",
    "check_instant",
    "check_name",
    "check_span",
    "clean_comment",
    "clean_name",
    "utc",
]

FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)
"""The days Stint accepts, both included (in UTC for instants). Wide enough for any real
timesheet; narrow enough that a week, a month or a time zone around them never leaves the
calendar Python can compute with (year 1 to 9999)."""

DATE_RANGE = f"dates must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"

_EARLIEST = datetime.combine(FIRST_DAY, time(), tzinfo=UTC)
_LATEST = datetime.combine(LAST_DAY + timedelta(days=1), time(), tzinfo=UTC)
"""The end of the last day: a worklog may end exactly then."""

MAX_LENGTH_S = 24 * 60 * 60
"""A worklog is at most one day long (SPEC's 12-hour cap is for timers, which is configurable)."""

MAX_COMMENT_LENGTH = 2000
MAX_NAME_LENGTH = 200
"""Cap for short names: work item ids and activity types."""


class WorklogFlag(StrEnum):
    TRACKED = "tracked"
    MANUAL = "manual"
    CHANGED = "changed"
    IMPORTED = "imported"
    FROM_API = "from_api"
    BILLABLE = "billable"


def utc(value: datetime, field: str) -> datetime:
    """``value`` in UTC; a naive time is refused because its instant is unknown."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(f"{field} needs a time zone", field=field)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+14:00 is in year 0 in UTC, which Python has no date for.
        raise _out_of_range(field, value.isoformat()) from None


def _out_of_range(field: str, shown: str) -> ValidationFailed:
    return ValidationFailed(f"{field} {shown} is out of range: {DATE_RANGE} (UTC)", field=field)


def check_instant(value: datetime, field: str) -> datetime:
    """``value`` in UTC, refused unless it lies within :data:`FIRST_DAY` .. :data:`LAST_DAY`."""
    moment = utc(value, field)
    if not _EARLIEST <= moment <= _LATEST:
        raise _out_of_range(field, value.isoformat())
    return moment


def check_span(started_at: datetime, length_s: int, field: str = "started_at") -> None:
    """A worklog's start and end both lie in the range (the end may be the range's last instant)."""
    start = check_instant(started_at, field)
    if start + timedelta(seconds=length_s) > _LATEST:
        raise ValidationFailed(
            f"a worklog starting at {started_at.isoformat()} ends after {LAST_DAY.isoformat()}: "
            f"{DATE_RANGE} (UTC)",
            field=field,
        )


def check_day(day: date, field: str) -> date:
    """``day``, refused outside :data:`FIRST_DAY` .. :data:`LAST_DAY`."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise _out_of_range(field, day.isoformat())
    return day


# Spreadsheets cannot store control characters (openpyxl refuses them) nor U+FFFE/U+FFFF
# (not allowed in XML), and surrogates cannot be written as UTF-8: none of them could
# survive an export. Unicode's categories Cc and Cs are exactly these ranges (a unit test
# checks every code point against unicodedata); one regular expression scans a text in C,
# where a per-character category lookup cost a 100,000-row import seconds.
_BAD_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: The same less tab and line feed, which a comment may hold.
_BAD_IN_COMMENT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_comment(value: str | None) -> str | None:
    """Blank → ``None``; line endings become ``\\n`` (xlsx keeps no ``\\r``); then checked."""
    if value is None or not value.strip():
        return None
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    check_comment(value)
    return value


def check_comment(value: str | None) -> None:
    if value is None:
        return
    if not value.strip():
        raise ValidationFailed("a blank comment is stored as no comment", field="comment")
    if len(value) > MAX_COMMENT_LENGTH:
        raise ValidationFailed(
            f"the comment is longer than {MAX_COMMENT_LENGTH} characters", field="comment"
        )
    if _BAD_IN_COMMENT.search(value):
        raise ValidationFailed("the comment contains control characters", field="comment")


def clean_name(value: str | None, field: str) -> str | None:
    """A short name (work item, activity type): trimmed, blank → ``None``, then checked."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    check_name(value, field)
    return value


def check_name(value: str | None, field: str) -> None:
    if value is None:
        return
    if value != value.strip() or not value:
        raise ValidationFailed(f"{field} must be trimmed and not blank", field=field)
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationFailed(f"{field} is longer than {MAX_NAME_LENGTH} characters", field=field)
    if _BAD_IN_NAME.search(value):
        raise ValidationFailed(f"{field} contains control characters", field=field)

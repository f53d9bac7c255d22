"""Import: rows from a CSV or Excel file become worklog drafts, or a list of bad rows.

An import is all or nothing: the caller stores the drafts only when ``errors``
is empty. So every row is checked and every bad one is reported with its line
and all its problems, never just the first. Formats are described in
:mod:`core.tracking.rows`. A timestamp without an offset is read in the
importer's ``time_zone``; an empty billable duration means 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from core.errors import ValidationFailed
from core.tracking.fields import MAX_LENGTH_S, WorklogFlag
from core.tracking.rows import (
    ACTIVITY_TYPE,
    BILLABLE_DURATION,
    COLUMNS,
    COMMENT,
    DURATION,
    TIMESTAMP,
    USER,
    WORK_ITEM,
    restore_text,
)
from core.tracking.weeks import zone
from core.tracking.worklog import WorklogDraft, draft_worklog

__all__ = ["ImportResult", "RowError", "parse_rows"]


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The drafts of the good rows and one error per bad row, both in file order."""

    drafts: tuple[WorklogDraft, ...]
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


class _Bad(Exception):
    """One problem with one cell; collected per row, never raised out of this module."""


def _text(value: object) -> str | None:
    """A cell as text (spreadsheets hand over numbers and dates too); blank → None."""
    if type(value) is str:  # every CSV cell: the fast way, for 100,000-row files
        text = value[1:] if value.startswith("'") else value  # restore_text, inlined
        return text if text.strip() else None
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))  # a work item typed as 1234 arrives as 1234.0
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    else:
        text = restore_text(str(value))
    return text if text.strip() else None


#: "1.5", "0.25", "8": what nearly every cell holds. With at most 9 digits on each side the
#: exact product has fewer digits than Decimal's 28, so integer arithmetic gives Decimal's
#: answer, at a fraction of its cost over a 100,000-row file.
_PLAIN_HOURS = re.compile(r"([0-9]{1,9})(?:\.([0-9]{1,9}))?")


def _plain_seconds(whole: str, fraction: str) -> int:
    """Hours written as plain digits, as whole seconds rounded half to even."""
    scale: int = 10 ** len(fraction)
    seconds, rest = divmod(int(whole + fraction) * 3600, scale)
    if 2 * rest > scale or (2 * rest == scale and seconds % 2):
        seconds += 1
    return seconds


def _hours(value: object, what: str) -> int | None:
    """Decimal hours → whole seconds, rounded to the nearest; blank → None."""
    if isinstance(value, bool):
        raise _Bad(f"the {what} is not a number of hours")
    # repr() is the shortest text that reads back as the same float: 0.000278.
    text = repr(value) if isinstance(value, int | float) else _text(value)
    if text is None:
        return None
    plain = _PLAIN_HOURS.fullmatch(text.strip())
    if plain is not None:
        seconds = _plain_seconds(plain[1], plain[2] or "")
    else:
        try:
            hours = Decimal(text.strip())
        except InvalidOperation:
            raise _Bad(f"the {what} {text!r} is not a number of hours (write 1.5)") from None
        if not hours.is_finite():
            raise _Bad(f"the {what} {text!r} is not a number of hours")
        if hours < 0:
            raise _Bad(f"negative {what} {text!r}")
        seconds = int((hours * 3600).to_integral_value(rounding=ROUND_HALF_EVEN))
    if seconds > MAX_LENGTH_S:
        raise _Bad(f"the {what} {text!r} is longer than 24 hours")
    return seconds


def _duration(value: object) -> int:
    seconds = _hours(value, "duration")
    if seconds is None:
        raise _Bad("the duration is missing")
    if seconds == 0:
        raise _Bad("the duration must be more than 0")
    return seconds


def _timestamp(value: object, time_zone: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        text = _text(value)
        if text is None:
            raise _Bad("the timestamp is missing")
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise _Bad(
                f"bad timestamp {text!r} (write ISO 8601: 2026-01-05T09:00:00+01:00)"
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(time_zone))
    return moment


def _user(value: object, users: Mapping[str, str]) -> str:
    email = _text(value)
    if email is None:
        raise _Bad("the user is missing")
    user_id = users.get(email.strip().casefold())
    if user_id is None:
        raise _Bad(f"unknown user {email!r}")
    return user_id


#: Accepted activity types: case-folded name → (catalogue id, its name) or None (keep as written).
_Allowed = Mapping[str, tuple[str, str] | None]


def _activity_type(value: object, allowed: _Allowed | None) -> tuple[str | None, str | None]:
    """The row's activity type as (name, catalogue id)."""
    name = _text(value)
    if name is None or allowed is None:
        return name, None
    key = name.strip().casefold()
    if key not in allowed:
        raise _Bad(f"unknown activity type {name!r}")
    entry = allowed[key]
    return (name, None) if entry is None else (entry[1], entry[0])


def _cells(row: Mapping[str, object] | Sequence[object]) -> Mapping[str, object]:
    if isinstance(row, Mapping):
        return row
    return {name: row[i] if i < len(row) else None for i, name in enumerate(COLUMNS)}


def parse_rows(
    rows: Iterable[tuple[int, Mapping[str, object] | Sequence[object]]],
    known_users: Mapping[str, str],
    *,
    added_by: str,
    time_zone: str = "UTC",
    activity_types: Collection[str] | Mapping[str, tuple[str, str]] | None = None,
    week_locked: Callable[[str, datetime], bool] | None = None,
) -> ImportResult:
    """Check every row; see the module doc.

    ``rows`` are ``(line, cells)`` with cells keyed by column name or listed in
    :data:`COLUMNS` order. ``known_users`` maps e-mail (any case) → user id.
    ``activity_types``, when given, are the only ones accepted (any case): names, or a
    mapping of name → (catalogue id, name), whose id and name the worklog then takes. ``week_locked``
    tells whether a worklog of that user starting then lies in a locked week.
    """
    zone(time_zone)  # a bad zone is the caller's mistake, not every row's
    users = {email.strip().casefold(): user_id for email, user_id in known_users.items()}
    allowed: _Allowed | None
    if activity_types is None:
        allowed = None
    elif isinstance(activity_types, Mapping):
        allowed = {name.strip().casefold(): entry for name, entry in activity_types.items()}
    else:
        allowed = {name.strip().casefold(): None for name in activity_types}
    drafts: list[WorklogDraft] = []
    errors: list[RowError] = []
    for line, row in rows:
        draft, problems = _parse_row(
            _cells(row), users, added_by, time_zone, allowed, week_locked
        )
        if problems:
            errors.append(RowError(line, "; ".join(problems)))
        elif draft is not None:
            drafts.append(draft)
    return ImportResult(tuple(drafts), tuple(errors))


def _parse_row(
    cells: Mapping[str, object],
    users: Mapping[str, str],
    added_by: str,
    time_zone: str,
    allowed: _Allowed | None,
    week_locked: Callable[[str, datetime], bool] | None,
) -> tuple[WorklogDraft | None, list[str]]:
    """The row's draft, or every problem found in it."""
    problems: list[str] = []
    # One try per cell rather than a helper taking a lambda: this runs for every row of
    # 100,000-row files, and the closures cost a tenth of the whole check.
    user_id = started_at = length_s = billable_s = activity_type = activity_type_id = None
    try:
        user_id = _user(cells.get(USER), users)
    except _Bad as bad:
        problems.append(str(bad))
    try:
        started_at = _timestamp(cells.get(TIMESTAMP), time_zone)
    except _Bad as bad:
        problems.append(str(bad))
    try:
        length_s = _duration(cells.get(DURATION))
    except _Bad as bad:
        problems.append(str(bad))
    try:
        billable_s = _hours(cells.get(BILLABLE_DURATION), "billable duration")
    except _Bad as bad:
        problems.append(str(bad))
    try:
        activity_type, activity_type_id = _activity_type(cells.get(ACTIVITY_TYPE), allowed)
    except _Bad as bad:
        problems.append(str(bad))
    if length_s is not None and billable_s is not None and billable_s > length_s:
        problems.append("the billable duration is longer than the duration")
        billable_s = None
    if user_id is None or started_at is None or length_s is None:
        return None, problems
    try:
        draft = draft_worklog(
            user_id,
            started_at,
            length_s,
            added_by=added_by,
            origin=WorklogFlag.IMPORTED,
            billable_length_s=billable_s or 0,
            work_item=_text(cells.get(WORK_ITEM)),
            comment=_text(cells.get(COMMENT)),
            activity_type=activity_type,
            activity_type_id=activity_type_id,
        )
    except ValidationFailed as invalid:
        return None, [*problems, invalid.detail]
    if week_locked is not None and week_locked(user_id, draft.started_at):
        problems.append(f"{started_at.isoformat()} lies in a locked week")
    return draft, problems

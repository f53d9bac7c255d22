"""The keyboard timesheet's cells: what people type into them, and what writing a total means.

A cell is one work item on one day; it shows the sum of that day's worklogs for the item.
Typing a duration sets that sum. How the worklogs under the cell change is decided here,
purely, so the rule is the same wherever a cell is written:

- an empty cell gets one new worklog of the typed length;
- a cell with one worklog has that worklog's length changed (its comment, activity type and
  start stay);
- a cell with several worklogs that is *raised* gets the difference as one more worklog: each
  existing worklog (its comment, activity type, billable part) stays as it was, and "I worked
  another half hour on it" is exactly a new worklog. *Lowering* it is refused: which of the
  worklogs to shorten is the user's choice (they differ in comment and activity), so the
  message sends them to the worklog list instead of guessing;
- clearing a cell (empty text or zero) deletes its worklogs — all of them at once, and with
  several only once the user confirmed it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import ValidationFailed
from core.tracking.worklog import Worklog

__all__ = [
    "MAX_DAY_S",
    "AddWorklog",
    "CellPlan",
    "ChangeLength",
    "ClearCell",
    "KeepCell",
    "format_hm",
    "parse_duration",
    "plan_cell",
]

#: A cell (like a worklog) holds at most a day.
MAX_DAY_S = 24 * 3600

_HM = re.compile(r"(\d{1,2}):([0-5]\d)(?::([0-5]\d))?", re.ASCII)
# Seconds on their own ("45s", "45 sec"): a track under a minute is kept with its seconds
# (docs/tracking.md), so a manual one can be typed the same way.
_S = re.compile(r"(\d{1,5})\s*s(?:ec(?:ond)?s?)?", re.ASCII)
_DECIMAL = re.compile(r"\d{1,2}(?:\.\d{1,4})?|\.\d{1,4}", re.ASCII)
_H = r"(?P<h>\d{1,2}(?:\.\d{1,4})?)\s*h(?:ours?|rs?)?"
_M = r"(?P<m>\d{1,4})\s*m(?:in(?:ute)?s?)?"
# "2h", "90m", "45 min", "1h 30m", "1h30", "1 hour 5 minutes": hours and/or minutes, in that order.
_UNITS = (
    re.compile(_H, re.ASCII),
    re.compile(_M, re.ASCII),
    re.compile(_H + r"\s*" + _M, re.ASCII),
    re.compile(_H + r"\s*(?P<m>\d{1,2})", re.ASCII),
)


def _seconds(text: str) -> int | None:
    value = text.strip().lower().replace(",", ".")
    match = _HM.fullmatch(value)
    if match:
        return int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3] or 0)
    match = _S.fullmatch(value)
    if match:
        return int(match[1])
    if _DECIMAL.fullmatch(value):
        return round(float(value) * 3600)
    for pattern in _UNITS:
        match = pattern.fullmatch(value)
        if match:
            found = match.groupdict()
            hours = float(found["h"]) if found.get("h") else 0.0
            minutes = int(found["m"]) if found.get("m") else 0
            return round(hours * 3600) + minutes * 60
    return None


def parse_duration(text: str, *, field: str = "hours", allow_zero: bool = False) -> int:
    """Seconds from what people type into a timesheet: ``1.5`` or ``1,5`` (hours), ``1:30``,
    ``90m``, ``1h 30m``, ``2h``, and seconds as ``45s`` or ``0:00:45``. More than a day is
    refused; so is zero unless ``allow_zero`` (a cell typed ``0`` is cleared)."""
    seconds = _seconds(text)
    if seconds is None:
        raise ValidationFailed(
            f"{text.strip()[:40]!r} is not a duration; type 1:30, 1.5, 90m, 1h 30m or 45s",
            field=field,
        )
    if seconds == 0 and allow_zero:
        return 0
    if not 0 < seconds <= MAX_DAY_S:
        raise ValidationFailed("a worklog lasts at least a second and at most 24 hours", field=field)
    return seconds


def format_hm(seconds: int) -> str:
    """``1h 30m`` style, as the cells' labels read it out."""
    hours, minutes = divmod(seconds // 60, 60)
    if hours and minutes:
        return f"{hours}h {minutes}m"
    if hours:
        return f"{hours}h"
    return f"{minutes}m"


@dataclass(frozen=True, slots=True)
class KeepCell:
    """The cell already holds the typed total."""


@dataclass(frozen=True, slots=True)
class AddWorklog:
    length_s: int


@dataclass(frozen=True, slots=True)
class ChangeLength:
    worklog_id: str
    length_s: int


@dataclass(frozen=True, slots=True)
class ClearCell:
    worklog_ids: tuple[str, ...]


CellPlan = KeepCell | AddWorklog | ChangeLength | ClearCell


def plan_cell(current: Sequence[Worklog], target_s: int, *, confirmed: bool = False) -> CellPlan:
    """How the cell's worklogs ``current`` change so that they sum to ``target_s`` (0: clear).

    Refuses (``ValidationFailed``, field ``hours``) lowering a cell of several worklogs, a raise
    past a day, and clearing several worklogs without ``confirmed``.
    """
    total = sum(w.length_s for w in current)
    if target_s < 0 or target_s > MAX_DAY_S:
        raise ValidationFailed("a cell holds more than 0 and at most 24 hours", field="hours")
    if target_s == total:
        return KeepCell()
    if target_s == 0:
        if len(current) > 1 and not confirmed:
            raise ValidationFailed(
                f"this cell holds {len(current)} worklogs; confirm to delete them all", field="hours"
            )
        return ClearCell(tuple(w.id for w in current))
    if not current:
        return AddWorklog(target_s)
    if len(current) == 1:
        return ChangeLength(current[0].id, target_s)
    if target_s > total:
        return AddWorklog(target_s - total)
    raise ValidationFailed(
        f"this cell holds {len(current)} worklogs ({format_hm(total)}); to lower it, change "
        "them one by one in the worklog list below, or clear the cell",
        field="hours",
    )

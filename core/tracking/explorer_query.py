"""The Times Explorer's query: which worklogs the team-wide list selects, and how a page
of them comes back from the storage.

:class:`WorklogQuery` is what the storage applies in SQL: every filter is already reduced
to columns of the worklog row (iterations and budgets become sets of work items and
worklog ids before the query; see :func:`core.services.explorer`). :func:`bound` reads a
``from``/``to`` value, :func:`week_window` makes a user's week into the UTC window the
approval filter asks for. A page is read in one statement as :class:`ExplorerRows`, each
worklog made into what the caller's :data:`PageShape` makes of it.

Re-exported by :mod:`core.tracking.explorer`; import from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar

from core.errors import ValidationFailed
from core.tracking.fields import WorklogFlag, check_instant
from core.tracking.weeks import WeekId, zone

__all__ = [
    "ExplorerRows",
    "PageShape",
    "UserWindow",
    "WorklogQuery",
    "bound",
    "week_window",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class UserWindow:
    """One user's worklogs starting in ``[start, end)`` (a week in their own zone)."""

    user_id: str
    start: datetime
    end: datetime


def week_window(user_id: str, week: WeekId, time_zone: str) -> UserWindow:
    """The UTC instants of ``week``'s Monday 00:00 to the next Monday 00:00 in ``time_zone``."""
    monday = datetime.combine(week.monday, time(), tzinfo=zone(time_zone))
    return UserWindow(user_id, monday.astimezone(UTC), (monday + timedelta(days=7)).astimezone(UTC))


@dataclass(frozen=True, slots=True)
class WorklogQuery:
    """Worklogs to select (None: no condition on that column). All sets are ANDed.

    ``work_items``: the worklog's work item is one of them. ``budget_items`` /
    ``budget_ids`` / ``not_ids``: the budget filter as resolved — the worklog is on one of
    ``budget_items`` and not in ``not_ids`` (assigned directly elsewhere), or its id is one
    of ``budget_ids`` (assigned directly to a budget asked for).
    """

    user_ids: frozenset[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    work_items: frozenset[str] | None = None
    activity_type_ids: frozenset[str] | None = None
    billable: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    edited_since: datetime | None = None
    budget_items: frozenset[str] | None = None
    budget_ids: frozenset[str] = field(default_factory=frozenset)
    not_ids: frozenset[str] = field(default_factory=frozenset)
    descending: bool = False
    #: The approval filter as windows: in one of ``in_windows`` (None: no condition) and in
    #: none of ``out_windows``.
    in_windows: tuple[UserWindow, ...] | None = None
    out_windows: tuple[UserWindow, ...] = ()
    #: Only these worklogs (a batch's).
    ids: frozenset[str] | None = None

    @property
    def empty(self) -> bool:
        """True when a set filter can match nothing (the query need not run)."""
        sets = (self.user_ids, self.work_items, self.activity_type_ids, self.ids)
        no_budget = self.budget_items is not None and not self.budget_items and not self.budget_ids
        no_window = self.in_windows is not None and not self.in_windows
        return any(s is not None and not s for s in sets) or no_budget or no_window


def bound(text: str | None, field: str, time_zone: str, *, end: bool = False) -> datetime | None:
    """A ``from``/``to`` query value: a date (``YYYY-MM-DD``, the whole day in
    ``time_zone``; as an ``end`` the day is included, so the bound is the next midnight)
    or an ISO 8601 date-time with an offset (as an ``end``, excluded)."""
    if text is None:
        return None
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValidationFailed(f"{field} is a date (YYYY-MM-DD) or a date-time", field=field) from None
        if end:
            if day == date.max:
                raise ValidationFailed(f"{field} is out of range", field=field)
            day += timedelta(days=1)
        return check_instant(datetime.combine(day, time(), tzinfo=zone(time_zone)), field)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{field} is a date (YYYY-MM-DD) or an ISO 8601 date-time with an offset, "
            "e.g. 2026-01-05T09:00:00Z", field=field,
        ) from None
    return check_instant(value, field)


#: What a page's caller makes of one stored worklog, from its values in this order: ``id,
#: user_id, started_at, length_s, billable_length_s, work_item, comment, activity_type,
#: added_by, flags, owner_edited, activity_type_id`` (a :class:`Worklog`'s fields in its
#: order), then the title of the work item it names (None: no such item). The web layer
#: makes its answer's item straight from them: no :class:`Worklog` in between (the page
#: makes up to 501 per request).
PageShape = Callable[
    [str, str, datetime, int, int, str | None, str | None, str | None, str, frozenset[WorklogFlag], bool,
     str | None, str | None],
    T,
]


@dataclass(frozen=True, slots=True)
class ExplorerRows(Generic[T]):
    """A page of the list as its one statement reads it: each worklog as the caller's
    :data:`PageShape` made it; each one's ``(id, work_item)`` — only when the tenant has any
    budget assignment, for resolving budgets — and whether it has any at all (False: every
    worklog is without a budget; nothing more to read)."""

    items: list[T]
    keys: list[tuple[str, str | None]]
    assigned: bool

"""The team-wide worklog list (the Times Explorer): what a query selects, and its grouping.

:class:`WorklogQuery` is what the storage applies in SQL: every filter is already reduced
to columns of the worklog row (iterations and budgets become sets of work items and
worklog ids before the query; see :func:`core.services.explorer`). :func:`group_worklogs`
sums worklogs into one or two levels of groups; amounts are summed from lines rounded once
each (``price`` is called per worklog), never rounded again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from core.errors import ValidationFailed
from core.money import Money
from core.tracking.fields import check_instant
from core.tracking.weeks import WeekId, local_day, week_of, zone
from core.tracking.worklog import Worklog

__all__ = [
    "GroupBy",
    "UserWindow",
    "WorklogGroup",
    "WorklogQuery",
    "bound",
    "group_worklogs",
    "parse_group_by",
    "week_window",
]


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


class GroupBy(StrEnum):
    USER = "user"
    WORK_ITEM = "work_item"
    ITERATION = "iteration"
    ACTIVITY_TYPE = "activity_type"
    BUDGET = "budget"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def parse_group_by(text: str) -> tuple[GroupBy, ...]:
    """``"user,week"`` → two levels; one or two distinct levels, else 422 on ``group_by``."""
    names = [part.strip() for part in text.split(",")]
    try:
        levels = tuple(GroupBy(name) for name in names)
    except ValueError:
        allowed = "|".join(g.value for g in GroupBy)
        raise ValidationFailed(f"group_by takes one or two of {allowed}, comma-separated",
                               field="group_by") from None
    if not 1 <= len(levels) <= 2 or len(set(levels)) != len(levels):
        raise ValidationFailed("group_by takes one or two different levels", field="group_by")
    return levels


@dataclass(frozen=True, slots=True)
class WorklogGroup:
    """One group: its key (``{"user_id": ...}``, ``{"week": "2026-W02"}`` ...), its totals
    and, with two levels, its subgroups."""

    key: dict[str, str | int | None]
    tracked_s: int
    billable_s: int
    amount: Money
    groups: list[WorklogGroup] | None = None


#: What the grouping needs of a worklog beyond the row: its iteration and budget.
KeyFacts = Callable[[Worklog], tuple[int | None, str | None]]


def _key(level: GroupBy, worklog: Worklog, zone: str, facts: KeyFacts) -> dict[str, str | int | None]:
    match level:
        case GroupBy.USER:
            return {"user_id": worklog.user_id}
        case GroupBy.WORK_ITEM:
            return {"work_item": worklog.work_item}
        case GroupBy.ACTIVITY_TYPE:
            return {"activity_type_id": worklog.activity_type_id}
        case GroupBy.ITERATION:
            return {"iteration_id": facts(worklog)[0]}
        case GroupBy.BUDGET:
            return {"budget_id": facts(worklog)[1]}
        case GroupBy.DAY:
            return {"day": local_day(worklog.started_at, zone).isoformat()}
        case GroupBy.WEEK:
            return {"week": str(week_of(local_day(worklog.started_at, zone)))}
        case GroupBy.MONTH:
            return {"month": local_day(worklog.started_at, zone).isoformat()[:7]}


def _sort_key(key: dict[str, str | int | None]) -> tuple[bool, str]:
    # None (no work item, no budget ...) last; the rest in their natural text/number order.
    value = next(iter(key.values()))
    return (value is None, f"{value:>20}" if isinstance(value, int) else str(value))


def group_worklogs(
    worklogs: Iterable[Worklog], levels: Sequence[GroupBy], *, zone: str, currency: str,
    price: Callable[[Worklog], Money | None], facts: KeyFacts,
) -> list[WorklogGroup]:
    """Sum worklogs into groups by ``levels`` (one or two), each worklog priced once."""
    lines = [(w, price(w)) for w in worklogs]
    return _group(lines, list(levels), zone, currency, facts)


def _group(
    lines: list[tuple[Worklog, Money | None]], levels: list[GroupBy], zone: str, currency: str,
    facts: KeyFacts,
) -> list[WorklogGroup]:
    level, rest = levels[0], levels[1:]
    buckets: dict[tuple[tuple[str, str | int | None], ...], list[tuple[Worklog, Money | None]]] = {}
    keys: dict[tuple[tuple[str, str | int | None], ...], dict[str, str | int | None]] = {}
    for line in lines:
        key = _key(level, line[0], zone, facts)
        frozen = tuple(key.items())
        keys.setdefault(frozen, key)
        buckets.setdefault(frozen, []).append(line)
    out = []
    for frozen in sorted(buckets, key=lambda k: _sort_key(keys[k])):
        members = buckets[frozen]
        total = sum((money.amount for _, money in members if money is not None), 0)
        out.append(WorklogGroup(
            key=keys[frozen],
            tracked_s=sum(w.length_s for w, _ in members),
            billable_s=sum(w.billable_length_s for w, _ in members),
            amount=Money(total, currency),
            groups=_group(members, rest, zone, currency, facts) if rest else None,
        ))
    return out

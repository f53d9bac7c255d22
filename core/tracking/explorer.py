"""The team-wide worklog list (the Times Explorer): what a query selects, and its grouping.

:class:`WorklogQuery` is what the storage applies in SQL: every filter is already reduced
to columns of the worklog row (iterations and budgets become sets of work items and
worklog ids before the query; see :func:`core.services.explorer`). :func:`group_worklogs`
sums worklogs into one or two levels of groups; amounts are summed from lines rounded once
each (``price`` is called per worklog), never rounded again.

At scale the sums are made by the storage (``TrackingRepository.explore_totals``): it
groups the matching rows in SQL by what a :class:`TotalsBy` names and answers
:class:`WorklogTotals` — partial sums that :func:`fold_totals` folds into the same groups
:func:`group_worklogs` makes from single worklogs (through :func:`group_totals`).
:class:`PriceRules` carries the rates into SQL so that each *worklog* is still rounded once
there (see the storage's comment).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from core.errors import ValidationFailed
from core.money import Money
from core.tracking.fields import WorklogFlag, check_instant
from core.tracking.weeks import WeekId, local_day, week_of, zone
from core.tracking.worklog import Worklog

__all__ = [
    "KEY_NAMES",
    "ExplorerRows",
    "FoldLine",
    "GroupBy",
    "GroupKey",
    "KeyValue",
    "PageShape",
    "PriceRules",
    "Subtotal",
    "TotalsBy",
    "UserWindow",
    "WorklogGroup",
    "WorklogQuery",
    "WorklogTotals",
    "bound",
    "day_key",
    "day_value",
    "fold_totals",
    "group_totals",
    "group_worklogs",
    "offset_spans",
    "parse_group_by",
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


# Not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__, and a
# grouped request builds hundreds of these (300 for a month by user and week: a third of the
# fold's time); its dict key made it unhashable all the same.
@dataclass(slots=True)
class WorklogGroup:
    """One group: its key (``{"user_id": ...}``, ``{"week": "2026-W02"}`` ...), its totals
    and, with two levels, its subgroups. Made once by the fold and only read after."""

    key: dict[str, str | int | None]
    tracked_s: int
    billable_s: int
    amount: Money
    groups: list[WorklogGroup] | None = None


#: What the grouping needs of a worklog beyond the row: its iteration and budget.
KeyFacts = Callable[[Worklog], tuple[int | None, str | None]]
#: One level's key of a group, e.g. ``{"week": "2026-W02"}``.
GroupKey = dict[str, str | int | None]


#: Each level's name in a group's key (``{"user_id": …}``, ``{"week": …}`` …).
KEY_NAMES: Mapping[GroupBy, str] = {
    GroupBy.USER: "user_id", GroupBy.WORK_ITEM: "work_item", GroupBy.ACTIVITY_TYPE: "activity_type_id",
    GroupBy.ITERATION: "iteration_id", GroupBy.BUDGET: "budget_id", GroupBy.DAY: "day",
    GroupBy.WEEK: "week", GroupBy.MONTH: "month",
}


def day_value(level: GroupBy, day: date) -> str:
    """A day, week or month level's key value for a local calendar day."""
    match level:
        case GroupBy.DAY:
            return day.isoformat()
        case GroupBy.WEEK:
            return str(week_of(day))
        case _:
            return day.isoformat()[:7]


def day_key(level: GroupBy, day: date) -> GroupKey:
    """A day, week or month level's key for a local calendar day."""
    return {KEY_NAMES[level]: day_value(level, day)}


def _key(level: GroupBy, worklog: Worklog, zone: str, facts: KeyFacts) -> GroupKey:
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
        case _:
            return day_key(level, local_day(worklog.started_at, zone))


def _sort_key(key: GroupKey) -> tuple[bool, str]:
    # None (no work item, no budget ...) last; the rest in their natural text/number order.
    value = next(iter(key.values()))
    return (value is None, f"{value:>20}" if isinstance(value, int) else str(value))


@dataclass(frozen=True, slots=True)
class Subtotal:
    """Sums over some worklogs that share their key at every level (``keys[i]``: level i)."""

    keys: tuple[GroupKey, ...]
    tracked_s: int
    billable_s: int
    amount: int


def group_worklogs(
    worklogs: Iterable[Worklog], levels: Sequence[GroupBy], *, zone: str, currency: str,
    price: Callable[[Worklog], Money | None], facts: KeyFacts,
) -> list[WorklogGroup]:
    """Sum worklogs into groups by ``levels`` (one or two), each worklog priced once."""
    lines = []
    for w in worklogs:
        money = price(w)
        lines.append(Subtotal(tuple(_key(level, w, zone, facts) for level in levels), w.length_s,
                              w.billable_length_s, money.amount if money is not None else 0))
    return group_totals(lines, len(levels), currency)


#: One level's key value: a user id, a week "2026-W02", an iteration number … (None: none).
KeyValue = str | int | None
#: A line to fold: its key values by level, then tracked, billable and amount.
FoldLine = tuple[tuple[KeyValue, ...], int, int, int]


def fold_totals(lines: Iterable[FoldLine], names: Sequence[str], currency: str) -> list[WorklogGroup]:
    """:func:`group_totals` of lines given as ``(key values by level, tracked, billable,
    amount)``, each level's key ``{names[i]: values[i]}``: the same groups, in the same order.

    This is the grouped request's hot path (a month by user and week folds a few hundred
    lines into as many groups on every request), so it folds into nested dictionaries keyed
    by the bare values in one pass, and builds each level's key dictionary once per group
    rather than once per line."""
    depth = len(names)
    root: dict[KeyValue, list[Any]] = {}
    if depth == 1:
        for (value,), tracked, billable, amount in lines:
            sums = root.get(value)
            if sums is None:
                root[value] = [tracked, billable, amount, None]
            else:
                sums[0] += tracked
                sums[1] += billable
                sums[2] += amount
    else:
        for values, tracked, billable, amount in lines:
            node = root
            for value in values:
                sums = node.get(value)
                if sums is None:
                    sums = node[value] = [0, 0, 0, {}]
                sums[0] += tracked
                sums[1] += billable
                sums[2] += amount
                node = sums[3]
    return _unfold(root, names, 0, currency)


def _value_order(value: KeyValue) -> tuple[bool, str]:
    # As _sort_key: None last; the rest in their natural text/number order.
    return (value is None, f"{value:>20}" if isinstance(value, int) else str(value))


def _unfold(
    node: dict[KeyValue, list[Any]], names: Sequence[str], level: int, currency: str,
) -> list[WorklogGroup]:
    name, last = names[level], level + 1 == len(names)
    out = []
    for value in sorted(node, key=_value_order):
        tracked, billable, amount, below = node[value]
        out.append(WorklogGroup({name: value}, tracked, billable, Money(amount, currency),
                                None if last else _unfold(below, names, level + 1, currency)))
    return out


def group_totals(lines: Iterable[Subtotal], depth: int, currency: str) -> list[WorklogGroup]:
    """Fold subtotals into ``depth`` levels of groups (sums of integers: exact)."""
    return _group(list(lines), 0, depth, currency)


def _group(lines: list[Subtotal], level: int, depth: int, currency: str) -> list[WorklogGroup]:
    # One pass: each bucket keeps its key, its members and its three running sums (a
    # month by user and week is a few hundred subtotals; this runs on every group request).
    buckets: dict[tuple[tuple[str, str | int | None], ...], tuple[GroupKey, list[Subtotal], list[int]]] = {}
    for line in lines:
        key = line.keys[level]
        frozen = tuple(key.items())
        bucket = buckets.get(frozen)
        if bucket is None:
            bucket = buckets[frozen] = (key, [], [0, 0, 0])
        bucket[1].append(line)
        sums = bucket[2]
        sums[0] += line.tracked_s
        sums[1] += line.billable_s
        sums[2] += line.amount
    out = []
    for key, members, (tracked, billable, amount) in sorted(buckets.values(), key=lambda b: _sort_key(b[0])):
        out.append(WorklogGroup(
            key=key, tracked_s=tracked, billable_s=billable, amount=Money(amount, currency),
            groups=_group(members, level + 1, depth, currency) if level + 1 < depth else None,
        ))
    return out


# Sums in SQL ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceRules:
    """The rates that price a worklog, as the storage applies them row by row: hourly rates
    in minor units of the tenant's one currency. Precedence (core.rates): the budget's rate
    — ``direct`` for a worklog assigned to a budget directly (``None``: that budget has no
    rate), else ``items`` for the budget its work item resolves to (only rated budgets) —
    then ``activity_types``, then ``users``; none → the worklog has no amount."""

    users: Mapping[str, int] = field(default_factory=dict)
    activity_types: Mapping[str, int] = field(default_factory=dict)
    direct: Mapping[str, int | None] = field(default_factory=dict)
    items: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TotalsBy:
    """What to sum worklogs by (each a column of :class:`WorklogTotals`; False: not split)."""

    user: bool = False
    work_item: bool = False
    activity_type: bool = False
    #: Split by the budget a worklog is assigned to directly (worklog id → budget id).
    direct_budget: Mapping[str, str] | None = None
    #: Split by the calendar day in this zone.
    day_zone: str | None = None
    #: With ``day_zone``: split by the Monday of the day's ISO week instead (fewer groups).
    week_starts: bool = False
    prices: PriceRules = field(default_factory=PriceRules)


@dataclass(frozen=True, slots=True)
class WorklogTotals:
    """The sums over the worklogs sharing these values (None on what was not split by)."""

    user_id: str | None
    work_item: str | None
    activity_type_id: str | None
    direct_budget: str | None
    #: The local day (with ``TotalsBy.week_starts``: the Monday of its week).
    day: date | None
    tracked_s: int
    billable_s: int
    amount: int


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


#: How far apart (seconds) :func:`offset_spans` samples a zone's offset. No IANA zone changes
#: its offset twice within six hours, so a change between two samples is exactly one change.
_SAMPLE_S = 6 * 3600


@functools.lru_cache(maxsize=512)  # pure; the explorer asks for the same months over and over
def offset_spans(time_zone: str, lo: datetime, hi: datetime) -> tuple[tuple[datetime | None, int], ...]:
    """The zone's UTC offsets (seconds) over ``[lo, hi]``: ``(since, offset)`` in order, the
    first one ``since`` None (from before ``lo``); each holds until the next one's ``since``."""
    where = zone(time_zone)

    def offset(epoch: int) -> int:
        shift = datetime.fromtimestamp(epoch, UTC).astimezone(where).utcoffset()
        return int(shift.total_seconds()) if shift is not None else 0

    first, last = math.floor(lo.timestamp()), math.ceil(hi.timestamp())
    spans: list[tuple[datetime | None, int]] = [(None, offset(first))]
    at = first
    while at < last:
        step = min(at + _SAMPLE_S, last)
        now = offset(step)
        if now != spans[-1][1]:
            before, after = at, step  # offset(before) is the old one, offset(after) the new
            while after - before > 1:  # zones change on whole seconds: bisect to the first
                middle = (before + after) // 2
                before, after = (middle, after) if offset(middle) == spans[-1][1] else (before, middle)
            spans.append((datetime.fromtimestamp(after, UTC), now))
        at = step
    return tuple(spans)

"""The Times Explorer's grouping: worklogs summed into one or two levels of groups.

:func:`group_worklogs` sums worklogs into groups; amounts are summed from lines rounded
once each (``price`` is called per worklog), never rounded again. At scale the sums come
from the storage (:mod:`core.tracking.explorer_totals`) as partial sums, which
:func:`fold_totals` (and :func:`group_totals`, from :class:`Subtotal` lines) fold into the
same groups :func:`group_worklogs` makes from single worklogs.

Re-exported by :mod:`core.tracking.explorer`; import from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from core.errors import ValidationFailed
from core.money import Money
from core.tracking.weeks import local_day, week_of
from core.tracking.worklog import Worklog

__all__ = [
    "KEY_NAMES",
    "FoldLine",
    "GroupBy",
    "GroupKey",
    "KeyFacts",
    "KeyValue",
    "Subtotal",
    "WorklogGroup",
    "day_key",
    "day_value",
    "fold_totals",
    "group_totals",
    "group_worklogs",
    "parse_group_by",
]


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

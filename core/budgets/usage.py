"""A budget's usage over a period and its monthly chargeback statement (pure arithmetic).

Both are built from the same priced lines: one per worklog, whose amount is rounded once
(half-even) by the pricing (``core.rates``: billable hours × the rate that applies).
Every total — the usage's amount and breakdowns, the statement's totals — is a sum of
those rounded lines, so a usage and the statements of the months that partition its
period agree to the cent.

The hour limit counts **tracked** time (the effort spent); the money limit counts the
**amount** (billable time priced). ``hours_left`` and ``amount_left`` go negative when a
budget is overrun, rather than stopping at zero, so an overrun shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from core.budgets.model import Budget
from core.money import Money

__all__ = [
    "Breakdown",
    "PricedLine",
    "Pricer",
    "Statement",
    "StatementLine",
    "Usage",
    "WorklogFact",
    "month_window",
    "price_lines",
    "statement_of",
    "usage_of",
]

K = TypeVar("K")


class WorklogFact(NamedTuple):
    """The columns of a worklog that usage and statements read (one query, nothing more).

    A named tuple: usage builds one per worklog of the period (100,000 of them), and a
    tuple is several times cheaper to make than a frozen dataclass."""

    id: str
    user_id: str
    started_at: datetime
    work_item: int | None
    activity_type: str | None
    length_s: int
    billable_s: int
    activity_type_id: str | None = None
    """The activity type's catalogue id (what its rate is keyed by); ``activity_type`` is its name."""


class PricedLine(NamedTuple):
    fact: WorklogFact
    rate: Money | None
    """The hourly rate that applied (None: no rate, so the amount is zero)."""
    amount: Money


Pricer = Callable[[WorklogFact], tuple[Money | None, Money]]
"""A worklog → (the rate that applies, its amount rounded once)."""


def price_lines(facts: Iterable[WorklogFact], pricer: Pricer) -> list[PricedLine]:
    lines = []
    for fact in facts:
        rate, amount = pricer(fact)
        lines.append(PricedLine(fact, rate, amount))
    return lines


@dataclass(frozen=True, slots=True)
class Breakdown(Generic[K]):
    key: K
    tracked_s: int
    billable_s: int
    amount: Money


@dataclass(frozen=True, slots=True)
class Usage:
    tracked_s: int
    billable_s: int
    amount: Money
    left_s: int | None
    """The hour limit minus tracked time, in seconds (None: no hour limit)."""
    amount_left: Money | None
    by_user: list[Breakdown[str]]
    by_activity_type: list[Breakdown[str | None]]
    by_work_item: list[Breakdown[int | None]]


def _rows(sums: dict[K, list[int]], currency: str) -> list[Breakdown[K]]:
    rows = [Breakdown(k, t, b, Money(a, currency)) for k, (t, b, a) in sums.items()]
    # Biggest first, then by key, so the answer is the same every time.
    rows.sort(key=lambda row: (-row.tracked_s, str(row.key)))
    return rows


def usage_of(budget: Budget, lines: list[PricedLine], currency: str) -> Usage:
    """The usage of ``budget`` from its priced lines (already only the budget's and the period's).

    One pass over the lines (there may be a hundred thousand): every sum at once."""
    by_user: dict[str, list[int]] = {}
    by_type: dict[str | None, list[int]] = {}
    by_item: dict[int | None, list[int]] = {}
    tracked = billable = total = 0
    for fact, _rate, money in lines:
        length, paid, cents = fact.length_s, fact.billable_s, money.amount
        tracked += length
        billable += paid
        total += cents
        # Inline rather than a helper per breakdown: this loop may run 100,000 times.
        row = by_user.get(fact.user_id)
        if row is None:
            by_user[fact.user_id] = [length, paid, cents]
        else:
            row[0] += length
            row[1] += paid
            row[2] += cents
        row = by_type.get(fact.activity_type)
        if row is None:
            by_type[fact.activity_type] = [length, paid, cents]
        else:
            row[0] += length
            row[1] += paid
            row[2] += cents
        row = by_item.get(fact.work_item)
        if row is None:
            by_item[fact.work_item] = [length, paid, cents]
        else:
            row[0] += length
            row[1] += paid
            row[2] += cents
    return Usage(
        tracked_s=tracked,
        billable_s=billable,
        amount=Money(total, currency),
        left_s=None if budget.limit_s is None else budget.limit_s - tracked,
        amount_left=None if budget.amount is None else Money(budget.amount.amount - total, currency),
        by_user=_rows(by_user, currency),
        by_activity_type=_rows(by_type, currency),
        by_work_item=_rows(by_item, currency),
    )


@dataclass(frozen=True, slots=True)
class StatementLine:
    worklog_id: str
    day: date
    user_id: str
    work_item: int | None
    work_item_title: str | None
    activity_type: str | None
    billable_s: int
    rate: Money | None
    amount: Money


@dataclass(frozen=True, slots=True)
class Statement:
    budget_id: str
    month: str
    currency: str
    lines: list[StatementLine]
    billable_s: int
    amount: Money


def month_window(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``YYYY-MM`` → the month's ``[start, end)`` instants in ``zone``."""
    year, number = int(month[:4]), int(month[5:7])
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, end


def statement_of(
    budget: Budget, month: str, lines: list[PricedLine], zone: ZoneInfo, titles: Mapping[int, str],
    currency: str,
) -> Statement:
    """The billable lines of one month (only worklogs with billable time), oldest first."""
    out = [
        StatementLine(
            worklog_id=line.fact.id,
            day=line.fact.started_at.astimezone(zone).date(),
            user_id=line.fact.user_id,
            work_item=line.fact.work_item,
            work_item_title=None if line.fact.work_item is None else titles.get(line.fact.work_item),
            activity_type=line.fact.activity_type,
            billable_s=line.fact.billable_s,
            rate=line.rate,
            amount=line.amount,
        )
        for line in sorted(lines, key=lambda line: (line.fact.started_at, line.fact.id))
        if line.fact.billable_s > 0
    ]
    return Statement(
        budget_id=budget.id,
        month=month,
        currency=currency,
        lines=out,
        billable_s=sum(line.billable_s for line in out),
        amount=Money(sum(line.amount.amount for line in out), currency),
    )

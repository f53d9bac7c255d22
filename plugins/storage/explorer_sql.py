"""The Times Explorer's sums in SQL on the worklog table (its filter and the list's page
statement: ``explorer_where.py``).

**Why the sums can be exact in SQL.** A group's amount is the sum of its worklogs' amounts,
each rounded half-even once (core.rates: ``billable_s × rate / 3600`` in minor units);
rounding the sum instead would differ (three lines of 2,777.78 are 8,334, not 8,333). So
SQL must round *per row*, and only then sum. Rates are integers (minor units per hour), so
``p = billable_s × rate`` is an exact integer and the amount is the rational ``p / 3600``;
rounding it half-even needs only integer division and remainder of non-negative integers,
which SQLite and PostgreSQL evaluate identically (both truncate, and truncation is floor
for non-negative operands)::

    p / 3600 + (1 if 2·(p % 3600) > 3600 or (2·(p % 3600) = 3600 and (p / 3600) odd) else 0)

— the same arithmetic as :func:`core.rates.amount`. ``p`` fits a 64-bit integer: rates are
at most 10⁹ (``MAX_HOURLY_MINOR``) and a worklog at most days long. The rate of each row is
chosen in SQL by the one precedence (budget, activity type, user) from
:class:`~core.tracking.explorer.PriceRules`, inlined as integer literals keyed by ids
passed as parameters: activity type and user rates as ``VALUES`` tables joined to the row,
budget rates as a ``CASE`` (one ``IN`` list per distinct rate).

The alternative — group by (key, rate-determining columns, billable seconds) and price in
Python — is exact too, but its result grows with the number of distinct billable lengths,
up to one row per worklog: the defect this replaces.

**Days in the caller's zone.** SQLite has no zone database, so the zone's offsets over the
queried range are worked out in Python (:func:`~core.tracking.explorer.offset_spans`) and
applied in SQL as ``CASE started_at < <change> THEN <offset> …``; the local day is then
whole-second epoch + offset, divided into days (as a proleptic ordinal, to stay
non-negative). Weeks and months are functions of the day, so SQL groups by day and the
caller rolls days up (O(groups), never O(worklogs)); iterations and budgets are functions
of the work item (and the worklog's own budget assignment), rolled up the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from piccolo.engine.base import Engine

from core.tracking.explorer import TotalsBy, WorklogQuery, WorklogTotals, offset_spans

from .explorer_where import Fragment, explore_where
from .plain_sql import Sql, fetch
from .tracking_tables import WorklogRow

__all__ = ["worklog_totals"]

#: Seconds from 0001-01-01 to 1970-01-01: epoch + this, in days, is ``date.toordinal() - 1``.
_ORDINAL_EPOCH_S = 62_135_596_800
_DAY_S = 86_400


def _case(column: str, values: Mapping[str, int | None]) -> Fragment:
    """``CASE WHEN column IN (…) THEN <rate> …`` with one ``IN`` list per distinct rate (rates are
    our own integers, inlined; ids are parameters)."""
    by_rate: dict[int | None, list[str]] = defaultdict(list)
    for key, rate in values.items():
        by_rate[rate].append(key)
    text, args = [], []
    for rate, keys in sorted(by_rate.items(), key=lambda item: (item[0] is None, item[0] or 0)):
        keys.sort()
        literal = "NULL" if rate is None else str(int(rate))
        text.append(f"WHEN {column} IN ({', '.join('{}' for _ in keys)}) THEN {literal}")
        args.extend(keys)
    return f"CASE {' '.join(text)} END", args


def _budget_case(direct: Mapping[str, str]) -> Fragment:
    """The budget a worklog is assigned to directly (NULL: none)."""
    by_budget: dict[str, list[str]] = defaultdict(list)
    for worklog_id, budget_id in direct.items():
        by_budget[budget_id].append(worklog_id)
    text, args = [], []
    for budget_id, ids in sorted(by_budget.items()):
        ids.sort()
        text.append(f"WHEN worklog.id IN ({', '.join('{}' for _ in ids)}) THEN CAST({{}} AS VARCHAR(32))")
        args.extend([*ids, budget_id])
    return f"CASE {' '.join(text)} END", args


def _values(name: str, key: str, rates: Mapping[str, int]) -> Fragment:
    """``name(key, rate) AS (VALUES (<id>, <rate>), …)``: a table of rates to join (ids are
    parameters, rates our own integers, inlined)."""
    keys = sorted(rates)
    rows = ", ".join(f"(CAST({{}} AS VARCHAR(32)), {int(rates[k])})" for k in keys)
    return f"{name}({key}, rate) AS (VALUES {rows})", list(keys)


@dataclass(frozen=True, slots=True)
class _Rate:
    """The hourly rate that prices a row: ``expr`` over ``worklog`` and the joined tables
    (NULL: none applies); ``ctes`` and ``joins`` to add to the statement."""

    expr: Fragment
    ctes: list[Fragment]
    joins: list[str]


def _rate(by: TotalsBy) -> _Rate:
    """The hourly rate that prices the row (NULL: none applies), by the one precedence.

    Activity type and user rates are joined from ``VALUES`` tables (a hash join each): as
    ``CASE`` chains (``WHEN user_id IN (…) THEN …`` per distinct rate) PostgreSQL compared
    every row against up to every user — 11 ms of a month's 843 rows at 50 users, against
    1.3 ms joined. Budget rates stay a ``CASE`` (worklogs and items assigned directly)."""
    prices = by.prices
    choices: list[Fragment] = []
    ctes: list[Fragment] = []
    joins: list[str] = []
    if prices.items or any(rate is not None for rate in prices.direct.values()):
        direct_text, direct_args = _case("worklog.id", prices.direct) if prices.direct else ("", [])
        items_text, items_args = _case("worklog.work_item", dict(prices.items)) if prices.items else ("", [])
        # One CASE: a worklog assigned directly takes its budget's rate (NULL: the budget has
        # none) before its work item's budget is looked at.
        whens = " ".join(t.removeprefix("CASE ").removesuffix(" END") for t in (direct_text, items_text) if t)
        choices.append((f"CASE {whens} END", direct_args + items_args))
    if prices.activity_types:
        ctes.append(_values("rate_a", "id", prices.activity_types))
        joins.append("LEFT JOIN rate_a ON rate_a.id = worklog.activity_type_id")
        choices.append(("rate_a.rate", []))
    if prices.users:
        ctes.append(_values("rate_u", "id", prices.users))
        joins.append("LEFT JOIN rate_u ON rate_u.id = worklog.user_id")
        choices.append(("rate_u.rate", []))
    if not choices:
        return _Rate(("CAST(NULL AS BIGINT)", []), ctes, joins)
    if len(choices) == 1:
        return _Rate(choices[0], ctes, joins)
    text = f"COALESCE({', '.join(text for text, _ in choices)})"
    return _Rate((text, [a for _, args in choices for a in args]), ctes, joins)


def _day(by: TotalsBy, lo: datetime, hi: datetime, postgres: bool) -> Fragment:
    """The row's calendar day in ``by.day_zone`` as a proleptic ordinal minus one."""
    assert by.day_zone is not None
    spans = offset_spans(by.day_zone, lo, hi)
    if len(spans) == 1:
        offset, args = str(spans[0][1]), []
    else:
        whens = " ".join(f"WHEN worklog.started_at < {{}} THEN {before}"
                         for (_, before) in spans[:-1])
        offset, args = f"CASE {whens} ELSE {spans[-1][1]} END", [since for since, _ in spans[1:]]
    epoch = ("CAST(FLOOR(EXTRACT(EPOCH FROM worklog.started_at)) AS BIGINT)" if postgres
             else "CAST(strftime('%s', worklog.started_at) AS INTEGER)")
    return f"({epoch} + {offset} + {_ORDINAL_EPOCH_S}) / {_DAY_S}", args


def _instant(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value  # SQLite: text


async def _bounds(where: Fragment) -> tuple[datetime, datetime] | None:
    """The first and last start among the matching worklogs (None: nothing matches)."""
    rows = await WorklogRow.raw(
        "SELECT MIN(worklog.started_at) AS lo, MAX(worklog.started_at) AS hi FROM worklog WHERE " + where[0],
        *where[1])
    if not rows or rows[0]["lo"] is None:
        return None
    return _instant(rows[0]["lo"]), _instant(rows[0]["hi"])


def _int(value: Any) -> int:
    # PostgreSQL's SUM of bigint is numeric (a Decimal); SQLite's an int; NULL when none priced.
    return 0 if value is None else int(value)


async def worklog_totals(
    engine: Engine[Any], tenant_id: str, query: WorklogQuery, by: TotalsBy, *, unless_assigned: bool = False,
) -> list[WorklogTotals] | None:
    """The matching worklogs' sums per distinct (user, work item, activity type, direct
    budget, local day) — only the columns ``by`` names — in one grouped statement.

    ``unless_assigned``: the statement also counts the tenant's budget assignments (an
    uncorrelated subquery, so the same snapshot as the sums); None when there is any (the
    prices in ``by`` were made without budgets and would be wrong)."""
    where = explore_where(tenant_id, query)
    postgres = engine.engine_type == "postgres"
    keys: list[Fragment] = []
    if by.user:
        keys.append(("worklog.user_id AS k_user", []))
    if by.work_item:
        keys.append(("worklog.work_item AS k_item", []))
    if by.activity_type:
        keys.append(("worklog.activity_type_id AS k_type", []))
    if by.direct_budget is not None:
        text, args = _budget_case(by.direct_budget) if by.direct_budget else ("CAST(NULL AS VARCHAR(32))", [])
        keys.append((f"{text} AS k_budget", args))
    if by.day_zone is not None:
        lo, hi = query.start, query.end
        if lo is None or hi is None:
            found = await _bounds(where)
            if found is None:
                return []
            lo, hi = lo or found[0], hi or found[1]
        text, args = _day(by, lo, hi, postgres)
        keys.append((f"{text} AS k_day", args))
    priced = _rate(by)
    rate, rate_args = priced.expr
    inner = [*keys, ("worklog.length_s AS tracked", []), ("worklog.billable_length_s AS billable", []),
             (f"CAST(worklog.billable_length_s AS BIGINT) * {rate} AS p", rate_args)]
    aliases = [text.rsplit(" AS ", 1)[1] for text, _ in keys]
    outer = [f"r.{alias}" for alias in aliases]
    if by.day_zone is not None and by.week_starts:
        # Day numbers count from a Monday (0001-01-01), so a week starts at a multiple of 7.
        outer[-1] = "(r.k_day - r.k_day % 7)"
    # Each row rounded half-even on its own, then summed (see the module's comment).
    rounded = ("r.p / 3600 + CASE WHEN 2 * (r.p % 3600) > 3600 OR "
               "(2 * (r.p % 3600) = 3600 AND (r.p / 3600) % 2 = 1) THEN 1 ELSE 0 END")
    check = ("EXISTS (SELECT 1 FROM budget_assignment WHERE budget_assignment.tenant_id = {}) AS n_assigned, "
             if unless_assigned else "")
    ctes = f"WITH {', '.join(text for text, _ in priced.ctes)} " if priced.ctes else ""
    template = (
        f"{ctes}SELECT {''.join(f'{e} AS {alias}, ' for e, alias in zip(outer, aliases, strict=True))}"
        f"{check}COUNT(*) AS n, SUM(r.tracked) AS tracked, "
        f"SUM(r.billable) AS billable, SUM({rounded}) AS amount "
        f"FROM (SELECT {', '.join(text for text, _ in inner)} FROM worklog {' '.join(priced.joins)} "
        "WHERE " + where[0] + ") AS r"
        + (f" GROUP BY {', '.join(outer)}" if outer else "")
    )
    args = [a for _, cte_args in priced.ctes for a in cte_args]
    args += [tenant_id] if unless_assigned else []
    args += [a for _, fragment_args in inner for a in fragment_args]
    args += where[1]
    # Made per request (the rates and keys vary); on PostgreSQL past Piccolo's compiling.
    rows = await fetch(WorklogRow, Sql(template), *args)
    if unless_assigned and rows and rows[0]["n_assigned"]:
        return None
    # Per row only what was split by; a day number is turned into a date once (a month by
    # user and week repeats five Mondays over every user's rows).
    user, item, kind, budget, day = (by.user, by.work_item, by.activity_type, by.direct_budget is not None,
                                     by.day_zone is not None)
    days: dict[int, date] = {}
    out = []
    for row in rows:
        if not row["n"]:
            continue
        on: date | None = None
        if day:
            number = row["k_day"]
            if number is not None:
                on = days.get(number)
                if on is None:
                    on = days[number] = date.fromordinal(int(number) + 1)
        out.append(WorklogTotals(
            row["k_user"] if user else None, row["k_item"] if item else None, row["k_type"] if kind else None,
            row["k_budget"] if budget else None, on,
            _int(row["tracked"]), _int(row["billable"]), _int(row["amount"]),
        ))
    return out

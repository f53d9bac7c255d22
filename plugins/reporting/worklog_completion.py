"""A workLogs page read by the index alone (``worklog_cut.worklog_rows_sql``), completed in
Python: the tenant's activity types, budgets, rates, assignments, work item tree and week
statuses read in the page's own statement, and each row's activity type name, budget,
amount, currency and approval state resolved from them by the same rules as the joins of
``_worklogs`` in ``sources.py``. ``tests/integration/test_reporting_worklog_page.py`` holds it
to the joined SQL's values.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import msgspec

from core.budgets import Assignments, WorkTree
from core.budgets.model import AssignmentKind
from core.rates.model import amount_minor
from core.reporting.model import MODEL
from core.tracking.approval import WeekStatus
from core.tracking.ports import UserWeek
from plugins.storage.plain_sql import Sql

from .context_maps import Window
from .statement import Statement
from .worklog_cut import WORKLOG_ROW_COLUMNS

__all__ = ["PAGE_WIDTH", "WorklogEntity", "by_user", "completed_rows", "lookups_of", "page_with_lookups"]


@dataclass(frozen=True, slots=True)
class _Lookups:
    """What a workLogs page completed in Python reads besides its rows: each activity type's
    (name, rate, currency), budget's (rate, currency), user rate's (amount, currency), the
    tenant's rate currency (None: no rate setting), the work item tree, the direct budget
    assignments and the weeks with a status."""

    types: dict[str, tuple[str, int | None, str | None]]
    budgets: dict[str, tuple[int | None, str | None]]
    users: dict[str, tuple[int, str]]
    currency: str | None
    tree: WorkTree
    assignments: Assignments
    statuses: dict[UserWeek, WeekStatus]


#: :class:`_Lookups`, each part tagged by ``kind``, in the page's own statement (one round
#: trip for a page: :func:`page_with_lookups`). The tree, the assignments and the week
#: statuses are what ``budgets_repo.tree``, ``.assignments`` and ``tracking_repo.week_statuses``
#: read, the same rows; the tree only when something is assigned to a work item or an
#: iteration (else no worklog gets a budget through it), the users' zones (what
#: ``tracking_repo.time_zones`` reads) only when some week has a status (else no window needs
#: one), and the tenant's zone.
_LOOKUPS = (
    "SELECT 'a' AS kind, id AS a, name AS b, rate_amount AS c, rate_currency AS d, "
    "CAST(NULL AS BIGINT) AS e, CAST(NULL AS BIGINT) AS f FROM activity_type WHERE tenant_id = {} "
    "UNION ALL SELECT 'b', id, NULL, hourly_rate, currency, NULL, NULL FROM budget WHERE tenant_id = {} "
    "UNION ALL SELECT 'u', user_id, NULL, amount, currency, NULL, NULL FROM user_rate WHERE tenant_id = {} "
    "UNION ALL SELECT 'r', NULL, NULL, NULL, currency, NULL, NULL FROM rate_setting WHERE tenant_id = {} "
    "UNION ALL SELECT 's', target, kind, NULL, budget_id, NULL, NULL FROM budget_assignment "
    "WHERE tenant_id = {} "
    "UNION ALL SELECT 'i', NULL, NULL, item_id, NULL, parent_id, iteration_id FROM work_item "
    "WHERE tenant_id = {} AND EXISTS (SELECT 1 FROM budget_assignment WHERE tenant_id = {} "
    "AND kind IN ('work_item', 'iteration')) "
    "UNION ALL SELECT 'w', user_id, week, NULL, status, NULL, NULL FROM week_status "
    "WHERE tenant_id = {} AND status <> 'open' "
    "UNION ALL SELECT 'z', user_id, time_zone, NULL, NULL, NULL, NULL FROM tracking_preference "
    "WHERE tenant_id = {} AND time_zone IS NOT NULL AND EXISTS (SELECT 1 FROM week_status "
    "WHERE tenant_id = {} AND status <> 'open') "
    "UNION ALL SELECT 't', NULL, time_zone, NULL, NULL, NULL, NULL FROM tenant WHERE id = {}"
)
_LOOKUP_TENANTS = _LOOKUPS.count("{}")
PAGE_WIDTH = len(WORKLOG_ROW_COLUMNS)


def page_with_lookups(page: Statement, tenant_id: str) -> tuple[Sql, tuple[Any, ...]]:
    """The page's rows, then the lookups' (their worklog columns NULL; a page row's id never
    is). One statement rather than two: a round trip less on every page, and the page and
    what completes it are read in one snapshot. The page's rows keep their order: PostgreSQL
    appends a UNION ALL's parts one after the other, and even a parallel plan keeps each
    part's own rows in order."""
    padding = "CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), " \
              "CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)"
    nulls = ", ".join(["NULL"] * PAGE_WIDTH)
    text = f"SELECT p.*, {padding} FROM ({page.text}) p UNION ALL SELECT {nulls}, k.* FROM ({_LOOKUPS}) k"
    return _sql(text), (*page.params, *[tenant_id] * _LOOKUP_TENANTS)


@lru_cache(maxsize=64)
def _sql(text: str) -> Sql:
    # A client paging through worklogs sends the same statement text page after page.
    return Sql(text)


_WORKLOG_NAMES = tuple(prop.name for prop in MODEL["workLogs"].properties)
_UNSET = object()
#: What sources.py's _item_id matches (PostgreSQL's ``~ '^[0-9]{1,18}$'``: ASCII digits only,
#: and no newline before the end, hence fullmatch rather than ``$``).
_ITEM_ID = re.compile(r"[0-9]{1,18}")


class WorklogEntity(msgspec.Struct, gc=False):
    """A workLogs row of every property, as the answer writes it: a JSON object with these
    names in this order, as the dict of :func:`_shaped` would be. A struct rather than a
    dict because a page is a thousand of them: made in about a third of a dict's time and
    encoded in about half (docs/benchmarks.md, "Reporting API"); no cycle can go through
    one (plain values only), so the garbage collector need not track them."""

    Id: str
    UserId: str
    Timestamp: datetime
    PeriodLength: int
    BillableLength: int
    ActivityTypeId: str | None
    ActivityTypeName: str | None
    Comment: str | None
    WorkItemId: int | None
    BudgetId: str | None
    BudgetAssignmentType: str
    Amount: Decimal | None
    Currency: str | None
    CreatedTimestamp: datetime
    EditedTimestamp: datetime
    ApprovalState: str


assert WorklogEntity.__struct_fields__ == _WORKLOG_NAMES, "WorklogEntity has workLogs' properties in order"


def by_user(windows: list[Window]) -> dict[str, tuple[list[datetime], list[tuple[datetime, str]]]]:
    """Each user's windows by start (a user's weeks never overlap): starts to bisect, and
    each one's end and status."""
    found: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for user, start, end, status in windows:
        found.setdefault(user, []).append((start, end, status))
    out = {}
    for user, found_windows in found.items():
        found_windows.sort()
        out[user] = ([w[0] for w in found_windows], [(w[1], w[2]) for w in found_windows])
    return out


def completed_rows(
    records: Sequence[Sequence[Any]],
    lookups: _Lookups,
    on_item: Mapping[str, list[str]],
    windows: Mapping[str, tuple[list[datetime], list[tuple[datetime, str]]]],
) -> list[Any]:
    """workLogs' rows (every property, as :class:`WorklogEntity`) of the worklog rows, as
    ``sources._worklogs`` joins them: the activity type's name; the budget assigned to the
    worklog directly, else its work item's (by the resolution map); the rate of the budget,
    else the activity type's, else the user's, and the currency of the rate setting, else of
    where the rate came from in that order (both None without a rate); the status of the
    user's week window the worklog starts in. asyncpg gives the columns as the answer's
    types already (instants in UTC)."""
    types, budgets, users, setting = lookups.types, lookups.budgets, lookups.users, lookups.currency
    direct = lookups.assignments.worklogs
    # (budget, activity type, user) → (type name, rate, currency): a page has few of them.
    priced: dict[tuple[str | None, str | None, str], tuple[str | None, int | None, str | None]] = {}
    # A page repeats its work items and its (billable length, rate) pairs.
    item_ids: dict[str | None, Any] = {}
    amounts: dict[tuple[int, int], Decimal] = {}
    out = []
    for record in records:
        wid, user, started, length, billable, type_id, comment, item, created, updated = record
        budget = direct.get(wid)
        if budget is not None:
            assignment = "DirectlyAssigned"
        else:
            mapped = on_item.get(item) if item is not None else None
            if mapped is not None:
                budget, assignment = mapped[0], mapped[1]
            else:
                assignment = "NoBudget"
        key = (budget, type_id, user)
        price = priced.get(key)
        if price is None:
            price = priced[key] = _price(types.get(type_id) if type_id is not None else None,
                                         budgets.get(budget) if budget is not None else None,
                                         users.get(user), setting)
        name, rate, currency = price
        state = "open"
        if windows:
            found = windows.get(user)
            if found is not None:
                i = bisect_right(found[0], started) - 1
                if i >= 0 and started < found[1][i][0]:
                    state = found[1][i][1]
        item_id = item_ids.get(item, _UNSET)
        if item_id is _UNSET:
            item_id = item_ids[item] = int(item) if item is not None and _ITEM_ID.fullmatch(item) else None
        amount = None
        if rate is not None:
            amount = amounts.get((billable, rate))
            if amount is None:
                # The one rounding rule (core.rates), the SQL path's integers give the same;
                # minor units as hundredths, exactly: what _scaled(…, 100) gives (12.50, 0.00).
                amount = amounts[billable, rate] = Decimal(amount_minor(billable, rate)).scaleb(-2)
        out.append(WorklogEntity(
            wid, user, started, length, billable, type_id, name, comment, item_id, budget, assignment, amount,
            currency, created, updated, state,
        ))
    return out


def _price(
    kind: tuple[str, int | None, str | None] | None,
    spent: tuple[int | None, str | None] | None,
    own: tuple[int, str] | None,
    setting: str | None,
) -> tuple[str | None, int | None, str | None]:
    """The activity type's name, the rate (the budget's, else the type's, else the user's)
    and its currency (the rate setting's, else the budget's, the type's, the user's; None
    without a rate)."""
    rate = None
    if spent is not None and spent[0] is not None:
        rate = spent[0]
    elif kind is not None and kind[1] is not None:
        rate = kind[1]
    elif own is not None:
        rate = own[0]
    currency = None
    if rate is not None:
        currency = setting
        for source in (spent, kind, own):
            if currency is not None:
                break
            if source is not None:
                currency = source[-1]
    return (None if kind is None else kind[0]), rate, currency


def lookups_of(rows: Sequence[Sequence[Any]]) -> tuple[_Lookups, dict[str, str], str]:
    """:class:`_Lookups` of the rows of :data:`_LOOKUPS`, the users' own zones and the
    tenant's zone."""
    types: dict[str, tuple[str, int | None, str | None]] = {}
    budgets: dict[str, tuple[int | None, str | None]] = {}
    users: dict[str, tuple[int, str]] = {}
    currency = None
    parents: dict[int, int | None] = {}
    iterations: dict[int, int | None] = {}
    on_iterations: dict[int, str] = {}
    on_items: dict[int, str] = {}
    on_worklogs: dict[str, str] = {}
    statuses: dict[UserWeek, WeekStatus] = {}
    zones: dict[str, str] = {}
    zone = "UTC"
    for kind, a, b, c, d, e, f in rows:
        if kind == "u":
            users[a] = (c, d)
        elif kind == "a":
            types[a] = (b, c, d)
        elif kind == "b":
            budgets[a] = (c, d)
        elif kind == "r":
            currency = d
        elif kind == "s":
            if b == AssignmentKind.WORKLOG:
                on_worklogs[a] = d
            elif b == AssignmentKind.WORK_ITEM:
                on_items[int(a)] = d
            elif b == AssignmentKind.ITERATION:
                on_iterations[int(a)] = d
        elif kind == "i":
            parents[int(c)] = None if e is None else int(e)
            iterations[int(c)] = None if f is None else int(f)
        elif kind == "w":
            statuses[UserWeek(a, b)] = WeekStatus(d)
        elif kind == "z":
            zones[a] = b
        elif kind == "t":
            zone = b
    lookups = _Lookups(
        types, budgets, users, currency, WorkTree(parents, iterations),
        Assignments(on_iterations, on_items, on_worklogs), statuses,
    )
    return lookups, zones, zone

"""Budget usage and the monthly chargeback statement as ``/api/v1/budgets`` answers them.

The usage and statement shapes, the usage period's ``from``/``to`` bounds, and the
statement's file rows (CSV or Excel), which the Budgets page's downloads write too
(``web/pages/budgets.py``). The routes are ``BudgetsController``'s (``budgets.py``).
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from core.budgets import Statement
from core.tracking.rows import format_hours, neutralise_formula

from ..schemas import MoneyOut

__all__ = [
    "STATEMENT_COLUMNS",
    "STATEMENT_NUMBERS",
    "ActivityUse",
    "StatementLineOut",
    "StatementOut",
    "StatementTotals",
    "UsageOut",
    "UserUse",
    "WorkItemUse",
    "statement_rows",
]


class UserUse(msgspec.Struct):
    user_id: str
    name: str | None
    tracked_s: int
    billable_s: int
    amount: MoneyOut


class ActivityUse(msgspec.Struct):
    activity_type: str | None
    tracked_s: int
    billable_s: int
    amount: MoneyOut


class WorkItemUse(msgspec.Struct):
    work_item: int | None
    tracked_s: int
    billable_s: int
    amount: MoneyOut


class UsageOut(msgspec.Struct):
    budget_id: str
    start: datetime | None = msgspec.field(name="from")
    end: datetime | None = msgspec.field(name="to")
    tracked_s: int
    billable_s: int
    amount: MoneyOut
    hours_left: float | None
    seconds_left: int | None
    amount_left: MoneyOut | None
    by_user: list[UserUse]
    by_activity_type: list[ActivityUse]
    by_work_item: list[WorkItemUse]


class StatementLineOut(msgspec.Struct):
    date: date
    worklog_id: str
    user_id: str
    user: str | None
    work_item: int | None
    work_item_title: str | None
    activity_type: str | None
    billable_s: int
    billable_hours: str
    rate: MoneyOut | None
    amount: MoneyOut


class StatementTotals(msgspec.Struct):
    billable_s: int
    billable_hours: str
    amount: MoneyOut


class StatementOut(msgspec.Struct):
    budget_id: str
    budget: str
    customer: str | None
    month: str
    currency: str
    lines: list[StatementLineOut]
    totals: StatementTotals


STATEMENT_COLUMNS = (
    "Date", "User", "Work item", "Title", "Activity type", "Billable hours", "Rate", "Amount", "Currency",
)
STATEMENT_NUMBERS = frozenset({"Billable hours", "Rate", "Amount"})


def statement_rows(statement: Statement, names: dict[str, str]) -> list[dict[str, str]]:
    """The statement as file rows; every cell neutralised as the worklog export's are."""
    rows = []
    for line in statement.lines:
        cells = {
            "Date": line.day.isoformat(),
            "User": names.get(line.user_id, line.user_id),
            "Work item": "" if line.work_item is None else str(line.work_item),
            "Title": line.work_item_title or "",
            "Activity type": line.activity_type or "",
            "Billable hours": format_hours(line.billable_s),
            "Rate": "" if line.rate is None else _decimal(line.rate.amount),
            "Amount": _decimal(line.amount.amount),
            "Currency": statement.currency,
        }
        rows.append({name: neutralise_formula(value) for name, value in cells.items()})
    rows.append({
        "Date": "Total", "User": "", "Work item": "", "Title": "", "Activity type": "",
        "Billable hours": format_hours(statement.billable_s), "Rate": "",
        "Amount": _decimal(statement.amount.amount), "Currency": statement.currency,
    })
    return rows


def _decimal(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"

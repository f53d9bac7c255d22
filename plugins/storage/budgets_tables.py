"""Piccolo table classes for budgets (DDL in ``migrations/m0018_budgets.py``)."""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, Date, Text, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["BUDGETS_TABLES", "BudgetAssignmentRow", "BudgetRow"]


class BudgetRow(Table, tablename="budget"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    name = Varchar(length=200)
    description = Text(null=True, default=None)
    limit_s = BigInt(null=True, default=None)
    amount = BigInt(null=True, default=None)
    hourly_rate = BigInt(null=True, default=None)
    currency = Varchar(length=3, null=True, default=None)
    starts_on = Date(null=True, default=None)
    ends_on = Date(null=True, default=None)
    is_open = Boolean(default=True)
    customer = Varchar(length=200, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class BudgetAssignmentRow(Table, tablename="budget_assignment"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    budget_id = Varchar(length=32)
    kind = Varchar(length=16)
    target = Varchar(length=64)
    created_at = Timestamptz()


BUDGETS_TABLES = (BudgetRow, BudgetAssignmentRow)

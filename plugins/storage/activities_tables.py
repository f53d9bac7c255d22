"""Piccolo table classes for activity types and rates (DDL in
``migrations/m0017_activity_types.py``)."""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["ACTIVITY_TABLES", "ActivityTypeRow", "RateSettingRow", "UserRateRow"]


class ActivityTypeRow(Table, tablename="activity_type"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    name = Varchar(length=200)
    #: The trimmed, case-folded name: unique per tenant (an index), so "Design" and "design"
    #: cannot both exist even when two requests race.
    name_key = Varchar(length=200)
    color = Varchar(length=7)
    billable_by_default = Boolean(default=False)
    active = Boolean(default=True)
    rate_amount = BigInt(null=True, default=None)
    rate_currency = Varchar(length=3, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class UserRateRow(Table, tablename="user_rate"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    amount = BigInt()
    currency = Varchar(length=3)
    updated_at = Timestamptz()


class RateSettingRow(Table, tablename="rate_setting"):
    """The tenant's rate currency, fixed by its first rate."""

    tenant_id = Varchar(length=32, primary_key=True)
    currency = Varchar(length=3)
    updated_at = Timestamptz()


ACTIVITY_TABLES: tuple[type[Table], ...] = (ActivityTypeRow, UserRateRow, RateSettingRow)

"""Piccolo table classes for the work items mirror (DDL in ``migrations/m0016_work_items.py``)."""

from __future__ import annotations

from piccolo.columns import BigInt, Date, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

__all__ = [
    "WORK_ITEMS_TABLES", "IterationRow", "WorkItemCounter", "WorkItemHistoryRow", "WorkItemRow",
    "WorkItemSyncRow",
]


class WorkItemRow(Table, tablename="work_item"):
    """One work item of a tenant, keyed by ``(tenant_id, item_id)``; ``id`` is the row's key."""

    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    item_id = BigInt()
    title = Varchar(length=255)
    search_title = Varchar(length=255)
    type = Varchar(length=64)
    state = Varchar(length=64)
    state_category = Varchar(length=16)
    parent_id = BigInt(null=True, default=None)
    iteration_id = BigInt(null=True, default=None)
    area_path = Varchar(length=400, null=True, default=None)
    assigned_name = Varchar(length=255, null=True, default=None)
    assigned_user_id = Varchar(length=32, null=True, default=None)
    #: An e-mail (a user's, or DevOps' uniqueName): up to 320 characters.
    assigned_unique_name = Varchar(length=320, null=True, default=None)
    original_estimate_centihours = BigInt(null=True, default=None)
    remaining_centihours = BigInt(null=True, default=None)
    completed_centihours = BigInt(null=True, default=None)
    rev = Integer(default=1)
    tags = Text(default="")
    changed_at = Timestamptz()


class IterationRow(Table, tablename="iteration"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    iteration_id = BigInt()
    path = Varchar(length=400)
    start_on = Date(null=True, default=None)
    finish_on = Date(null=True, default=None)
    external_id = Varchar(length=64, null=True, default=None)
    changed_at = Timestamptz()


class WorkItemCounter(Table, tablename="work_item_counter"):
    """The next standalone work item and iteration ids of a tenant."""

    tenant_id = Varchar(length=32, primary_key=True)
    next_work_item_id = BigInt()
    next_iteration_id = BigInt()


class WorkItemSyncRow(Table, tablename="work_item_sync"):
    tenant_id = Varchar(length=32, primary_key=True)
    watermark = Timestamptz(null=True, default=None)
    last_run_at = Timestamptz(null=True, default=None)
    last_success_at = Timestamptz(null=True, default=None)
    last_error = Text(null=True, default=None)
    items_seen = Integer(default=0)


class WorkItemHistoryRow(Table, tablename="work_item_history"):
    """An item's Remaining and Completed Work as a day (UTC) ended: one row per item per day,
    unique on ``(tenant_id, item_id, day)`` (DDL in ``migrations/m0032_work_item_history.py``)."""

    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    item_id = BigInt()
    day = Date()
    iteration_id = BigInt(null=True, default=None)
    remaining_centihours = BigInt(null=True, default=None)
    completed_centihours = BigInt(null=True, default=None)
    #: The item's ``changed_at`` the row holds: a later change of the same day replaces it,
    #: an older one (a repeated sync page) does not.
    changed_at = Timestamptz()


WORK_ITEMS_TABLES: tuple[type[Table], ...] = (
    WorkItemRow, IterationRow, WorkItemCounter, WorkItemSyncRow, WorkItemHistoryRow,
)

"""Piccolo table classes for time tracking (DDL in ``migrations/m0003_tracking.py``;
``devops_connection`` in ``migrations/m0007_devops_connection.py``; ``work_item_automation``
and ``work_item_outbox.remaining_set`` in ``migrations/m0019_work_item_automation.py``;
``user_approver`` and the approval columns in ``migrations/m0023_approval.py``)."""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, Date, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["TRACKING_TABLES"]


class TrackingRule(Table, tablename="tracking_rule"):
    tenant_id = Varchar(length=32, primary_key=True)
    tracking_without_work_item = Boolean(default=True)
    activity_check_minutes = Integer(default=60)
    answer_window_minutes = Integer(default=10)
    max_track_minutes = Integer(default=720)
    locked_until = Date(null=True, default=None)
    updated_at = Timestamptz()
    # m0023: the approval settings.
    approval_start = Date(null=True, default=None)
    auto_lock_after_days = Integer(null=True, default=None)


class TrackingPreference(Table, tablename="tracking_preference"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    time_zone = Varchar(length=64, null=True, default=None)
    mail_on_system_stop = Boolean(default=False)
    updated_at = Timestamptz()


class TrackingTimer(Table, tablename="tracking_timer"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    started_at = Timestamptz()
    work_item = Varchar(length=200, null=True, default=None)
    comment = Text(null=True, default=None)
    next_activity_check_at = Timestamptz()
    check_asked_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()
    # m0017: the activity type of the track (catalogue id and its current name), and whether
    # the worklog it leaves is billable (the type's billable_by_default when started).
    activity_type_id = Varchar(length=32, null=True, default=None)
    activity_type = Varchar(length=200, null=True, default=None)
    billable = Boolean(default=False)


class WorklogRow(Table, tablename="worklog"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    started_at = Timestamptz()
    length_s = Integer()
    billable_length_s = Integer(default=0)
    work_item = Varchar(length=200, null=True, default=None)
    comment = Text(null=True, default=None)
    activity_type = Varchar(length=200, null=True, default=None)
    added_by = Varchar(length=32)
    flags = Varchar(length=100)
    owner_edited = Boolean(default=False)
    stop_reason = Varchar(length=16, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    # m0017: the activity type catalogue entry; ``activity_type`` keeps its current name.
    activity_type_id = Varchar(length=32, null=True, default=None)


class WorklogChangeRow(Table, tablename="worklog_change"):
    """m0024: one add, edit or delete of a worklog (``core.tracking.history``)."""

    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    worklog_id = Varchar(length=32)
    user_id = Varchar(length=32)
    at = Timestamptz()
    actor_id = Varchar(length=32, null=True, default=None)
    source = Varchar(length=16)
    action = Varchar(length=16)
    before = Text(null=True, default=None)
    after = Text(null=True, default=None)


class WorklogImportRow(Table, tablename="worklog_import"):
    """m0034: one worklog import; its worklogs' "added" history entries are implicit
    (``tracking_worklog_reads.implicit_added``)."""

    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    at = Timestamptz()
    actor_id = Varchar(length=32, null=True, default=None)
    source = Varchar(length=16)
    worklogs = Integer()


class EditingRuleRow(Table, tablename="editing_rule"):
    """m0025: who may edit other people's worklogs (no row: Administrators only)."""

    tenant_id = Varchar(length=32, primary_key=True)
    who = Varchar(length=32)
    updated_by = Varchar(length=32)
    updated_at = Timestamptz()


class WeekStatusRow(Table, tablename="week_status"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    week = Varchar(length=8)
    status = Varchar(length=16)
    updated_by = Varchar(length=32)
    updated_at = Timestamptz()
    # m0023: the particulars of the last submission and decision.
    submitted_at = Timestamptz(null=True, default=None)
    decided_by = Varchar(length=32, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    note = Text(null=True, default=None)


class UserApprover(Table, tablename="user_approver"):
    """One of a user's approvers (m0023)."""

    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    approver_id = Varchar(length=32)
    created_at = Timestamptz()


class LocalWorkItem(Table, tablename="local_work_item"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    item = Varchar(length=200)
    title = Varchar(length=200, default="")
    completed_centihours = BigInt(null=True, default=None)
    remaining_centihours = BigInt(null=True, default=None)
    rev = Integer(default=1)
    updated_at = Timestamptz()


class WorkItemOutbox(Table, tablename="work_item_outbox"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    work_item = Varchar(length=200)
    effect_key = Varchar(length=100)
    remaining_delta_s = Integer(default=0)
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
    attempt_rev = Integer(null=True, default=None)
    attempt_completed = Varchar(length=32, null=True, default=None)
    attempt_remaining = Varchar(length=32, null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    #: The Remaining Work (hours, decimal text) the user set on the worklog (``per_worklog``).
    remaining_set = Varchar(length=32, null=True, default=None)


class DevOpsConnectionRow(Table, tablename="devops_connection"):
    """A tenant's work-item connector; no row: standalone. The PAT is stored sealed."""

    tenant_id = Varchar(length=32, primary_key=True)
    kind = Varchar(length=32)
    organization_url = Varchar(length=300, null=True, default=None)
    project = Varchar(length=64, null=True, default=None)
    sealed_pat = Text(null=True, default=None)
    updated_at = Timestamptz()


class WorkItemAutomationRow(Table, tablename="work_item_automation"):
    """A tenant's work item automation settings; no row: the defaults (on, both, reduce)."""

    tenant_id = Varchar(length=32, primary_key=True)
    enabled = Boolean(default=True)
    fields = Varchar(length=16)
    remaining = Varchar(length=16)
    updated_by = Varchar(length=32)
    updated_at = Timestamptz()


TRACKING_TABLES: tuple[type[Table], ...] = (
    TrackingRule,
    TrackingPreference,
    TrackingTimer,
    WorklogRow,
    WorklogChangeRow,
    WorklogImportRow,
    EditingRuleRow,
    WeekStatusRow,
    UserApprover,
    LocalWorkItem,
    WorkItemOutbox,
    DevOpsConnectionRow,
    WorkItemAutomationRow,
)

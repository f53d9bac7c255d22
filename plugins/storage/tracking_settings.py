"""The tenant's tracking settings and each user's preferences: the ``tracking_rule`` row (the
timer's rules, the lock and approval policy), the editing rule, the work-item automation and
``tracking_preference``. Small rows, each read whole and upserted whole; none is a worklog.
``settings_from_row`` and ``as_date`` are shared: the timer's pre-built read and the
timesheet's query read the same ``tracking_rule`` columns in their own joins."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from core.ids import new_id
from core.tracking import LockPolicy, TrackingRules
from core.tracking.automation import FieldsWritten, RemainingMode, WorkItemAutomation
from core.tracking.ports import TrackingPreference, TrackingSettings

from .changes import note_change, user_scope
from .tracking_base import TrackingRepoBase
from .tracking_tables import EditingRuleRow, TrackingRule, WorkItemAutomationRow
from .tracking_tables import (
    TrackingPreference as PreferenceRow,
)

# The ``type: ignore[arg-type]`` on upserts below are Piccolo's typing gaps: ``update`` wants
# ``dict[Column | str, Any]`` (a dict of column names is refused, dicts being invariant in their
# key) and a table's ``**kwargs`` of column values is checked against its own ``_data`` flags.


def as_date(value: Any) -> date | None:
    """SQLite cannot type a subquery's column: a date comes back as text there."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def settings_from_row(row: Mapping[str, Any] | None) -> TrackingSettings:
    """The rules of a ``tracking_rule`` row; no row (or a join's empty side): the defaults."""
    if row is None or row["activity_check_minutes"] is None:
        return TrackingSettings(TrackingRules(), LockPolicy())
    rules = TrackingRules(
        tracking_without_work_item=bool(row["tracking_without_work_item"]),
        activity_check_every=timedelta(minutes=row["activity_check_minutes"]),
        answer_window=timedelta(minutes=row["answer_window_minutes"]),
        max_track_length=timedelta(minutes=row["max_track_minutes"]),
    )
    lock = LockPolicy(
        locked_until=as_date(row["locked_until"]), approval_start=as_date(row["approval_start"]),
        auto_lock_after_days=row["auto_lock_after_days"],
    )
    return TrackingSettings(rules, lock)


class RulesAndPreferences(TrackingRepoBase):
    """The rules and preferences part of ``PiccoloTrackingRepo``."""

    async def rules(self) -> TrackingSettings:
        row = await TrackingRule.select().where(TrackingRule.tenant_id == self.tenant_id).first()
        return settings_from_row(row)

    async def editing_rule(self) -> str | None:
        row = await EditingRuleRow.select(EditingRuleRow.who).where(
            EditingRuleRow.tenant_id == self.tenant_id
        ).first()
        return row["who"] if row else None

    async def save_editing_rule(self, rule: str, by: str, at: datetime) -> None:
        where = EditingRuleRow.tenant_id == self.tenant_id
        values = {"who": rule, "updated_by": by, "updated_at": at}
        if await EditingRuleRow.exists().where(where):
            await EditingRuleRow.update(values).where(where)  # type: ignore[arg-type]
        else:
            await EditingRuleRow.insert(EditingRuleRow(tenant_id=self.tenant_id, **values))  # type: ignore[arg-type]

    async def save_rules(self, rules: TrackingRules, lock: LockPolicy, at: datetime) -> None:
        values = {
            "tracking_without_work_item": rules.tracking_without_work_item,
            "activity_check_minutes": int(rules.activity_check_every.total_seconds() // 60),
            "answer_window_minutes": int(rules.answer_window.total_seconds() // 60),
            "max_track_minutes": int(rules.max_track_length.total_seconds() // 60),
            "locked_until": lock.locked_until,
            "updated_at": at,
        }
        where = TrackingRule.tenant_id == self.tenant_id
        if await TrackingRule.exists().where(where):
            await TrackingRule.update(values).where(where)  # type: ignore[arg-type]
        else:
            await TrackingRule.insert(TrackingRule(tenant_id=self.tenant_id, **values))  # type: ignore[arg-type]

    async def save_approval_settings(
        self, approval_start: date | None, auto_lock_after_days: int | None, at: datetime
    ) -> None:
        values = {
            "approval_start": approval_start, "auto_lock_after_days": auto_lock_after_days, "updated_at": at,
        }
        where = TrackingRule.tenant_id == self.tenant_id
        if await TrackingRule.exists().where(where):
            await TrackingRule.update(values).where(where)  # type: ignore[arg-type]
        else:
            await TrackingRule.insert(TrackingRule(tenant_id=self.tenant_id, **values))  # type: ignore[arg-type]

    async def work_item_automation(self) -> WorkItemAutomation:
        row = await WorkItemAutomationRow.select().where(
            WorkItemAutomationRow.tenant_id == self.tenant_id
        ).first()
        if row is None:
            return WorkItemAutomation()
        return WorkItemAutomation(
            enabled=bool(row["enabled"]), fields=FieldsWritten(row["fields"]),
            remaining=RemainingMode(row["remaining"]),
        )

    async def save_work_item_automation(self, settings: WorkItemAutomation, by: str, at: datetime) -> None:
        values = {
            "enabled": settings.enabled, "fields": settings.fields.value,
            "remaining": settings.remaining.value, "updated_by": by, "updated_at": at,
        }
        where = WorkItemAutomationRow.tenant_id == self.tenant_id
        if await WorkItemAutomationRow.exists().where(where):
            await WorkItemAutomationRow.update(values).where(where)  # type: ignore[arg-type]
        else:
            await WorkItemAutomationRow.insert(
                WorkItemAutomationRow(tenant_id=self.tenant_id, **values)  # type: ignore[arg-type]
            )

    async def preference(self, user_id: str) -> TrackingPreference:
        row = await PreferenceRow.select().where(
            (PreferenceRow.tenant_id == self.tenant_id) & (PreferenceRow.user_id == user_id)
        ).first()
        if row is None:
            return TrackingPreference()
        return TrackingPreference(row["time_zone"], bool(row["mail_on_system_stop"]))

    async def time_zones(self) -> dict[str, str]:
        """Each user's own time zone; users who chose none (the tenant's) are left out."""
        rows = await PreferenceRow.select(PreferenceRow.user_id, PreferenceRow.time_zone).where(
            (PreferenceRow.tenant_id == self.tenant_id) & PreferenceRow.time_zone.is_not_null()
        )
        return {row["user_id"]: row["time_zone"] for row in rows}

    async def save_preference(self, user_id: str, preference: TrackingPreference, at: datetime) -> None:
        # The user's zone is cached under their generation (core.services.tracking_common).
        note_change(user_scope(user_id))
        where = (PreferenceRow.tenant_id == self.tenant_id) & (PreferenceRow.user_id == user_id)
        values = {
            "time_zone": preference.time_zone,
            "mail_on_system_stop": preference.mail_on_system_stop,
            "updated_at": at,
        }
        if await PreferenceRow.exists().where(where):
            await PreferenceRow.update(values).where(where)  # type: ignore[arg-type]
        else:
            await PreferenceRow.insert(
                PreferenceRow(id=new_id(), tenant_id=self.tenant_id, user_id=user_id, **values)  # type: ignore[arg-type]
            )

"""Weeks and who approves them: each user's week status (``week_status``: open, submitted,
approved, rejected, closed; who decided and when) and each user's approvers
(``user_approver``): the approval workflow's rows. The timer's and the timesheet's reads
join ``week_status`` in their own statements; this is where it is written."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from piccolo.custom_types import Combinable

from core.ids import new_id
from core.tracking import WeekRecord, WeekStatus
from core.tracking.ports import UserWeek

from .tracking_base import TrackingRepoBase
from .tracking_tables import UserApprover, WeekStatusRow

# The ``type: ignore[arg-type]`` on upserts below are Piccolo's typing gaps: ``update`` wants
# ``dict[Column | str, Any]`` (a dict of column names is refused, dicts being invariant in their
# key) and a table's ``**kwargs`` of column values is checked against its own ``_data`` flags.


def _week_from_row(row: dict[str, Any]) -> WeekRecord:
    return WeekRecord(
        user_id=row["user_id"], week=row["week"], status=WeekStatus(row["status"]),
        submitted_at=row.get("submitted_at"), decided_by=row.get("decided_by"),
        decided_at=row.get("decided_at"), note=row.get("note"),
    )


class WeeksAndApprovers(TrackingRepoBase):
    """The weeks and approvers part of ``PiccoloTrackingRepo``."""

    async def week_statuses(self, user_id: str | None = None) -> dict[UserWeek, WeekStatus]:
        where: Combinable = (WeekStatusRow.tenant_id == self.tenant_id) & (
            WeekStatusRow.status != WeekStatus.OPEN.value
        )
        if user_id is not None:
            where &= WeekStatusRow.user_id == user_id
        columns = (WeekStatusRow.user_id, WeekStatusRow.week, WeekStatusRow.status)
        rows = await WeekStatusRow.select(*columns).where(where)
        return {UserWeek(row["user_id"], row["week"]): WeekStatus(row["status"]) for row in rows}

    def _week_where(self, user_id: str, week: str) -> Combinable:
        return (
            (WeekStatusRow.tenant_id == self.tenant_id)
            & (WeekStatusRow.user_id == user_id)
            & (WeekStatusRow.week == week)
        )

    async def week_status(self, user_id: str, week: str) -> WeekStatus:
        row = await WeekStatusRow.select(WeekStatusRow.status).where(self._week_where(user_id, week)).first()
        return WeekStatus(row["status"]) if row else WeekStatus.OPEN

    async def save_week_status(
        self, user_id: str, week: str, status: WeekStatus, by: str, at: datetime
    ) -> None:
        where = self._week_where(user_id, week)
        values = {"status": status.value, "updated_by": by, "updated_at": at}
        if await WeekStatusRow.exists().where(where):
            await WeekStatusRow.update(values).where(where)  # type: ignore[arg-type]
        else:
            await WeekStatusRow.insert(
                WeekStatusRow(id=new_id(), tenant_id=self.tenant_id, user_id=user_id, week=week, **values)  # type: ignore[arg-type]
            )

    async def week_record(self, user_id: str, week: str) -> WeekRecord:
        row = await WeekStatusRow.select().where(self._week_where(user_id, week)).first()
        return _week_from_row(row) if row else WeekRecord(user_id, week)

    async def save_week(self, record: WeekRecord, by: str, at: datetime) -> None:
        where = self._week_where(record.user_id, record.week)
        values = {
            "status": record.status.value, "updated_by": by, "updated_at": at,
            "submitted_at": record.submitted_at, "decided_by": record.decided_by,
            "decided_at": record.decided_at, "note": record.note,
        }
        if await WeekStatusRow.exists().where(where):
            await WeekStatusRow.update(values).where(where)  # type: ignore[arg-type]
        else:
            await WeekStatusRow.insert(
                WeekStatusRow(
                    id=new_id(), tenant_id=self.tenant_id, user_id=record.user_id, week=record.week,
                    **values,  # type: ignore[arg-type]
                )
            )

    async def week_records(
        self, *, statuses: Collection[WeekStatus], user_ids: Collection[str] | None = None,
        week: str | None = None, limit: int = 500,
    ) -> list[WeekRecord]:
        if not statuses or (user_ids is not None and not user_ids):
            return []
        where: Combinable = (WeekStatusRow.tenant_id == self.tenant_id) & WeekStatusRow.status.is_in(
            sorted(status.value for status in statuses)
        )
        if user_ids is not None:
            where &= WeekStatusRow.user_id.is_in(sorted(user_ids))
        if week is not None:
            where &= WeekStatusRow.week == week
        rows = await (
            WeekStatusRow.select().where(where)
            .order_by(WeekStatusRow.week, ascending=False).order_by(WeekStatusRow.user_id)
            .limit(limit)
        )
        return [_week_from_row(row) for row in rows]

    # Approvers ----------------------------------------------------------------------------

    async def approvers(self, user_id: str | None = None) -> dict[str, list[str]]:
        where: Combinable = UserApprover.tenant_id == self.tenant_id
        if user_id is not None:
            where &= UserApprover.user_id == user_id
        rows = await (
            UserApprover.select(UserApprover.user_id, UserApprover.approver_id).where(where)
            .order_by(UserApprover.user_id).order_by(UserApprover.approver_id)
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row["user_id"], []).append(row["approver_id"])
        return found

    async def approvees(self, approver_id: str) -> list[str]:
        rows = await UserApprover.select(UserApprover.user_id).where(
            (UserApprover.tenant_id == self.tenant_id) & (UserApprover.approver_id == approver_id)
        ).order_by(UserApprover.user_id)
        return [row["user_id"] for row in rows]

    async def set_approvers(self, user_id: str, approver_ids: Collection[str], at: datetime) -> None:
        await UserApprover.delete().where(
            (UserApprover.tenant_id == self.tenant_id) & (UserApprover.user_id == user_id)
        )
        if approver_ids:
            await UserApprover.insert(*(
                UserApprover(id=new_id(), tenant_id=self.tenant_id, user_id=user_id,
                             approver_id=approver_id, created_at=at)
                for approver_id in sorted(set(approver_ids))
            ))

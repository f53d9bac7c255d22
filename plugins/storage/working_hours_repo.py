"""One tenant's working hours and days off (``core.working_hours.WorkingHoursStore``); every
query filters on the tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from piccolo.columns import Column

from core.ids import new_id
from core.working_hours import WorkingHours

from .notifications_tables import DayOffRow, WorkingHoursRow

__all__ = ["PiccoloWorkingHoursStore"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class PiccoloWorkingHoursStore:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    async def get(self, user_id: str) -> WorkingHours | None:
        row = await WorkingHoursRow.select().where(
            (WorkingHoursRow.tenant_id == self.tenant_id) & (WorkingHoursRow.user_id == user_id)
        ).first()
        if row is None:
            return None
        days = await DayOffRow.select(DayOffRow.day).where(
            (DayOffRow.tenant_id == self.tenant_id) & (DayOffRow.user_id == user_id)
        )
        return WorkingHours.of(tuple(int(row[name]) for name in _DAYS), [d["day"] for d in days])

    async def all(self) -> dict[str, WorkingHours]:
        """Two statements for the whole tenant, not two per user."""
        rows = await WorkingHoursRow.select().where(WorkingHoursRow.tenant_id == self.tenant_id)
        if not rows:
            return {}
        days = await DayOffRow.select(DayOffRow.user_id, DayOffRow.day).where(
            DayOffRow.tenant_id == self.tenant_id)
        off: dict[str, list[Any]] = {}
        for d in days:
            off.setdefault(d["user_id"], []).append(d["day"])
        return {row["user_id"]: WorkingHours.of(tuple(int(row[name]) for name in _DAYS),
                                                off.get(row["user_id"], [])) for row in rows}

    async def save(self, user_id: str, hours: WorkingHours) -> None:
        now = datetime.now(UTC)
        values: dict[Column | str, Any] = {
            WorkingHoursRow._meta.get_column_by_name(name): minutes
            for name, minutes in zip(_DAYS, hours.minutes, strict=True)
        }
        mine = (WorkingHoursRow.tenant_id == self.tenant_id) & (WorkingHoursRow.user_id == user_id)
        updated = await WorkingHoursRow.update(
            {**values, WorkingHoursRow.updated_at: now}
        ).where(mine).returning(WorkingHoursRow.id)
        if not updated:
            row = WorkingHoursRow(id=new_id(), tenant_id=self.tenant_id, user_id=user_id, updated_at=now)
            for name, minutes in zip(_DAYS, hours.minutes, strict=True):
                setattr(row, name, minutes)
            await WorkingHoursRow.insert(row)
        # The days off are replaced as a whole: the list the user sent is the list kept.
        await DayOffRow.delete().where(
            (DayOffRow.tenant_id == self.tenant_id) & (DayOffRow.user_id == user_id)
        )
        if hours.days_off:
            await DayOffRow.insert(*(
                DayOffRow(id=new_id(), tenant_id=self.tenant_id, user_id=user_id, day=day)
                for day in hours.days_off
            ))

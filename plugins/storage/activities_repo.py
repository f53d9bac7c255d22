"""The activity type catalogue and rates of one tenant; every query filters on the tenant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from core.activities import ActivityType, name_key
from core.ids import new_id
from core.money import Money

from .activities_tables import ActivityTypeRow, RateSettingRow, UserRateRow
from .changes import note_change, note_tracking, rates_scope
from .tracking_tables import TrackingTimer, WorklogRow

__all__ = ["PiccoloActivityTypeRepo", "PiccoloRateRepo"]


def _now() -> datetime:
    return datetime.now(UTC)


def _entry(row: dict[str, Any]) -> ActivityType:
    amount, currency = row["rate_amount"], row["rate_currency"]
    return ActivityType(
        id=row["id"],
        name=row["name"],
        color=row["color"],
        billable_by_default=bool(row["billable_by_default"]),
        active=bool(row["active"]),
        hourly_rate=Money(int(amount), currency) if amount is not None and currency else None,
    )


def _values(entry: ActivityType) -> dict[str, Any]:
    rate = entry.hourly_rate
    return {
        "name": entry.name,
        "name_key": name_key(entry.name),
        "color": entry.color,
        "billable_by_default": entry.billable_by_default,
        "active": entry.active,
        "rate_amount": rate.amount if rate else None,
        "rate_currency": rate.currency if rate else None,
    }


class PiccoloActivityTypeRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    async def all(self) -> list[ActivityType]:
        rows = await ActivityTypeRow.select().where(ActivityTypeRow.tenant_id == self.tenant_id)
        return sorted((_entry(row) for row in rows), key=lambda e: (name_key(e.name), e.id))

    async def get(self, activity_type_id: str) -> ActivityType | None:
        row = await ActivityTypeRow.select().where(
            (ActivityTypeRow.tenant_id == self.tenant_id) & (ActivityTypeRow.id == activity_type_id)
        ).first()
        return _entry(row) if row else None

    async def add(self, entries: Sequence[ActivityType]) -> None:
        if not entries:
            return
        note_change(rates_scope(self.tenant_id))  # the cached rate book holds activity type rates
        at = _now()
        await ActivityTypeRow.insert(
            *(
                ActivityTypeRow(
                    id=entry.id, tenant_id=self.tenant_id, created_at=at, updated_at=at,
                    **_values(entry),
                )
                for entry in entries
            )
        )

    async def save(self, entry: ActivityType) -> None:
        note_change(rates_scope(self.tenant_id))
        where = (ActivityTypeRow.tenant_id == self.tenant_id) & (ActivityTypeRow.id == entry.id)
        before = await ActivityTypeRow.select(ActivityTypeRow.name).where(where).first()
        values: dict[Any, Any] = {**_values(entry), "updated_at": _now()}
        await ActivityTypeRow.update(values).where(where)
        if before is not None and before["name"] != entry.name:
            # Worklogs and timers keep the name next to the id, so every reader (timesheet,
            # exports, reports) shows the current one without a join.
            await WorklogRow.update({WorklogRow.activity_type: entry.name}).where(
                (WorklogRow.tenant_id == self.tenant_id) & (WorklogRow.activity_type_id == entry.id)
            )
            await TrackingTimer.update({TrackingTimer.activity_type: entry.name}).where(
                (TrackingTimer.tenant_id == self.tenant_id)
                & (TrackingTimer.activity_type_id == entry.id)
            )
            # Open event streams show the new name on the running timers.
            note_tracking(self.tenant_id, None, timer=True)


class PiccoloRateRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    async def currency(self) -> str | None:
        row = await RateSettingRow.select(RateSettingRow.currency).where(
            RateSettingRow.tenant_id == self.tenant_id
        ).first()
        return str(row["currency"]) if row else None

    async def fix_currency(self, currency: str) -> str:
        note_change(rates_scope(self.tenant_id))
        # Insert-if-absent: a concurrent first rate either inserts first (and this one reads
        # it back) or waits on the primary key; the currency, once fixed, never changes here.
        await RateSettingRow.insert(
            RateSettingRow(tenant_id=self.tenant_id, currency=currency, updated_at=_now())
        ).on_conflict(action="DO NOTHING")
        fixed = await self.currency()
        return fixed if fixed is not None else currency

    def _where(self, user_id: str) -> Any:
        return (UserRateRow.tenant_id == self.tenant_id) & (UserRateRow.user_id == user_id)

    async def user_rates(self) -> dict[str, Money]:
        rows = await UserRateRow.select().where(UserRateRow.tenant_id == self.tenant_id)
        return {row["user_id"]: Money(int(row["amount"]), row["currency"]) for row in rows}

    async def user_rate(self, user_id: str) -> Money | None:
        row = await UserRateRow.select().where(self._where(user_id)).first()
        return Money(int(row["amount"]), row["currency"]) if row else None

    async def set_user_rate(self, user_id: str, rate: Money | None) -> None:
        note_change(rates_scope(self.tenant_id))
        where = self._where(user_id)
        if rate is None:
            await UserRateRow.delete().where(where)
            return
        values = {"amount": rate.amount, "currency": rate.currency, "updated_at": _now()}
        if await UserRateRow.exists().where(where):
            await UserRateRow.update(values).where(where)  # type: ignore[arg-type]
        else:
            await UserRateRow.insert(
                UserRateRow(id=new_id(), tenant_id=self.tenant_id, user_id=user_id, **values)  # type: ignore[arg-type]
            )

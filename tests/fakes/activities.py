"""In-memory activity types and rates, as ``plugins/storage/activities_repo.py`` keeps them.

Like the Piccolo repositories: entries come back by case-folded name; saving a renamed entry
writes the new name onto the tenant's worklogs and timers that refer to it by id; the rate
currency is fixed by the first caller and never changed by a later one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from core.activities import ActivityType, name_key
from core.money import Money

if TYPE_CHECKING:
    from tests.fakes.unit_of_work import FakeDatabase

__all__ = ["FakeActivityTypeRepository", "FakeRateRepository"]


class FakeActivityTypeRepository:
    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    def _entries(self) -> dict[str, ActivityType]:
        return self._store.activity_types.setdefault(self.tenant_id, {})

    async def all(self) -> list[ActivityType]:
        return sorted(self._entries().values(), key=lambda entry: (name_key(entry.name), entry.id))

    async def get(self, activity_type_id: str) -> ActivityType | None:
        return self._entries().get(activity_type_id)

    async def add(self, entries: Sequence[ActivityType]) -> None:
        self._store.check_write("add activity types")
        stored = self._entries()
        for entry in entries:
            # The unique index on (tenant, lower(name)) of the real table.
            if entry.id in stored or any(name_key(e.name) == name_key(entry.name) for e in stored.values()):
                raise ValueError(f"duplicate activity type {entry.name!r}")
            stored[entry.id] = entry

    async def save(self, entry: ActivityType) -> None:
        self._store.check_write("save an activity type")
        stored = self._entries()
        before = stored[entry.id]
        stored[entry.id] = entry
        if before.name != entry.name:
            worklogs = self._store.worklogs.get(self.tenant_id, {})
            for worklog_id, worklog in list(worklogs.items()):
                if worklog.activity_type_id == entry.id:
                    worklogs[worklog_id] = replace(worklog, activity_type=entry.name)
            timers = self._store.timers.get(self.tenant_id, {})
            for user_id, timer in list(timers.items()):
                if timer.activity_type_id == entry.id:
                    timers[user_id] = replace(timer, activity_type=entry.name)


class FakeRateRepository:
    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    async def currency(self) -> str | None:
        return self._store.rate_currencies.get(self.tenant_id)

    async def fix_currency(self, currency: str) -> str:
        self._store.check_write("fix the rate currency")
        return self._store.rate_currencies.setdefault(self.tenant_id, currency)

    async def user_rates(self) -> dict[str, Money]:
        return dict(self._store.user_rates.get(self.tenant_id, {}))

    async def user_rate(self, user_id: str) -> Money | None:
        return self._store.user_rates.get(self.tenant_id, {}).get(user_id)

    async def set_user_rate(self, user_id: str, rate: Money | None) -> None:
        self._store.check_write("set a user rate")
        rates = self._store.user_rates.setdefault(self.tenant_id, {})
        if rate is None:
            rates.pop(user_id, None)
        else:
            rates[user_id] = rate

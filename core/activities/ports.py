"""What the activity types context needs from storage: the tenant's catalogue.

Handed out by the tenant's scope (``uow.tenant(t).activity_types()``); every query behind
it filters on that tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.activities.model import ActivityType

__all__ = ["ActivityTypeRepository"]


class ActivityTypeRepository(Protocol):
    async def all(self) -> list[ActivityType]:
        """Every entry of the tenant, active or not, by name (case-insensitively)."""
        ...

    async def get(self, activity_type_id: str) -> ActivityType | None: ...

    async def add(self, entries: Sequence[ActivityType]) -> None:
        """Store new entries (the caller checked that their names are free)."""
        ...

    async def save(self, entry: ActivityType) -> None:
        """Store a changed entry. A new name is also written to the worklogs and timers on
        it, which keep the name next to the id so that every reader shows the current one."""
        ...

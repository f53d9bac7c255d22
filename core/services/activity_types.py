"""The tenant's activity type catalogue (SPEC §12): list, add, change, and the default list.

Administrators manage it (the web layer's guard); every user with a seat reads the active
entries, which worklog and timer forms offer.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.activities import (
    DEFAULT_CATALOGUE,
    ActivityType,
    ActivityTypeChanges,
    ActivityTypeExists,
    default_catalogue,
    name_key,
    new_activity_type,
    updated,
)
from core.activities.ports import ActivityTypeRepository
from core.errors import NotFound, ValidationFailed
from core.ids import new_ids
from core.money import Money
from core.tenancy import Tenant
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .rates import accept_rate

__all__ = [
    "create_activity_type",
    "list_activity_types",
    "seed_default_catalogue",
    "update_activity_type",
]


async def seed_default_catalogue(repo: ActivityTypeRepository) -> list[ActivityType]:
    """Give a tenant the default list (at signup): only names it does not have yet."""
    taken = {name_key(entry.name) for entry in await repo.all()}
    entries = [
        entry
        for entry in default_catalogue(new_ids(len(DEFAULT_CATALOGUE)))
        if name_key(entry.name) not in taken
    ]
    await repo.add(entries)
    return entries


async def list_activity_types(
    uow: UnitOfWorkFactory, *, tenant: Tenant, include_inactive: bool = False,
    after: str | None = None, limit: int | None = None,
) -> list[ActivityType]:
    """By name (case-insensitively); ``after`` (an entry's id) and ``limit`` page through them.

    A catalogue is tens of entries, so a page is cut from the whole list (one query).
    """
    async with uow() as work:
        entries = await work.tenant(tenant.id).activity_types().all()
    if not include_inactive:
        entries = [entry for entry in entries if entry.active]
    if after is not None:
        position = next((n for n, entry in enumerate(entries) if entry.id == after), None)
        if position is None:
            raise ValidationFailed("this cursor did not come from a previous page", field="cursor")
        entries = entries[position + 1 :]
    return entries if limit is None else entries[:limit]


def _ensure_name_free(entries: Sequence[ActivityType], name: str, except_id: str | None) -> None:
    key = name_key(name)
    for entry in entries:
        if entry.id != except_id and name_key(entry.name) == key:
            raise ActivityTypeExists(
                f"an activity type named {entry.name!r} exists", field="name", id=entry.id
            )


async def _checked_rate(scope: TenantScope, rate: Money | None) -> Money | None:
    return None if rate is None else await accept_rate(scope.rates(), rate)


async def create_activity_type(
    uow: UnitOfWorkFactory, *, tenant: Tenant, name: str, color: str | None = None,
    billable_by_default: bool = False, hourly_rate: Money | None = None,
) -> ActivityType:
    entry = new_activity_type(
        new_ids(1)[0], name, color=color, billable_by_default=billable_by_default
    )
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.activity_types()
        _ensure_name_free(await repo.all(), entry.name, None)
        entry = updated(entry, ActivityTypeChanges(hourly_rate=await _checked_rate(scope, hourly_rate)))
        await repo.add([entry])
        await work.commit()
    return entry


async def update_activity_type(
    uow: UnitOfWorkFactory, *, tenant: Tenant, activity_type_id: str, changes: ActivityTypeChanges
) -> ActivityType:
    """Rename, recolour, (de)activate or reprice one entry; worklogs on it keep it (by id)."""
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.activity_types()
        entries = await repo.all()
        current = next((entry for entry in entries if entry.id == activity_type_id), None)
        if current is None:
            raise NotFound("there is no such activity type")
        after = updated(current, changes)
        if after.hourly_rate is not None and after.hourly_rate != current.hourly_rate:
            rate = await _checked_rate(scope, after.hourly_rate)
            after = updated(after, ActivityTypeChanges(hourly_rate=rate))
        _ensure_name_free(entries, after.name, after.id)
        if after != current:
            await repo.save(after)
            await work.commit()
    return after

"""The approval queue (issue #17): who decides whose weeks, and the queue of the weeks they
may decide.

A week's steps with their mails are :mod:`core.services.approval_steps`; the tenant's
approval settings and the job that writes the calendar's locks down are
:mod:`core.services.approval_settings`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from core.clock import Clock
from core.errors import NotFound, ValidationFailed
from core.tenancy import Tenant, User
from core.tracking import WeekRecord, WeekStatus, parse_week_id
from core.tracking.explorer import week_window
from core.unit_of_work import TenantScope, UnitOfWorkFactory

__all__ = [
    "QueueItem",
    "approval_queue",
    "approvers_of",
    "deciders",
    "people_approved_by",
    "set_approvers",
]


# Who decides ---------------------------------------------------------------------------


async def people_approved_by(scope: TenantScope, actor: User) -> frozenset[str] | None:
    """Whose weeks ``actor`` decides: None for everyone (a global approval manager)."""
    if actor.approval_manager:
        return None
    # Never themselves: an approver does not decide their own weeks (see may_decide).
    return frozenset(await scope.tracking().approvees(actor.id)) - {actor.id}


async def deciders(uow: UnitOfWorkFactory, *, tenant: Tenant, actor: User) -> frozenset[str] | None:
    """:func:`people_approved_by` in a unit of work of its own (the nav, the explorer)."""
    async with uow() as work:
        return await people_approved_by(work.tenant(tenant.id), actor)


async def approvers_of(
    uow: UnitOfWorkFactory, *, tenant: Tenant, user_id: str | None = None
) -> dict[str, list[str]]:
    """Each user's approvers (or one user's); 404 for a user who does not exist."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        if user_id is not None and await scope.users().get(user_id) is None:
            raise NotFound("there is no such user", field="id")
        return await scope.tracking().approvers(user_id)


async def set_approvers(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, user_id: str,
    approver_ids: Sequence[str],
) -> list[str]:
    """Replace a user's approvers (each a user of this tenant, not the user themselves)."""
    wanted = sorted(set(approver_ids))
    if user_id in wanted:
        raise ValidationFailed("a user cannot approve their own weeks", field="approver_ids")
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        users = scope.users()
        if await users.get(user_id) is None:
            raise NotFound("there is no such user", field="id")
        unknown = [approver for approver in wanted if await users.get(approver) is None]
        if unknown:
            raise ValidationFailed(
                "these approvers are not users of this tenant", field="approver_ids", unknown=unknown
            )
        now = clock.now()
        await scope.tracking().set_approvers(user_id, wanted, now)
        await scope.audit().record(f"user:{actor.id}", "user.approvers_changed", user_id,
                                   {"approver_ids": wanted}, now)
        await work.commit()
    return wanted


# The queue -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueItem:
    user: User
    record: WeekRecord
    tracked_s: int
    billable_s: int


async def approval_queue(
    uow: UnitOfWorkFactory, *, tenant: Tenant, actor: User, states: Collection[WeekStatus],
    week: str | None = None, user_id: str | None = None, skip: int = 0, limit: int = 200,
) -> list[QueueItem]:
    """The weeks in ``states`` that ``actor`` may decide, newest week first (then by user
    id), with totals; ``skip`` the first ones (the page's position)."""
    week_id = None if week is None else str(parse_week_id(week))
    async with uow() as work:
        scope = work.tenant(tenant.id)
        people = await people_approved_by(scope, actor)
        if user_id is not None:
            people = frozenset({user_id}) if people is None or user_id in people else frozenset()
        repo = scope.tracking()
        records = await repo.week_records(statuses=states, user_ids=people, week=week_id, limit=skip + limit)
        records = records[skip:]
        zones = await repo.time_zones()
        items: list[QueueItem] = []
        for record in records:
            owner = await scope.users().get(record.user_id)
            if owner is None:
                continue
            time_zone = zones.get(owner.id) or tenant.time_zone
            window = week_window(owner.id, parse_week_id(record.week), time_zone)
            worklogs = await repo.worklogs(user_id=owner.id, start=window.start, end=window.end)
            items.append(QueueItem(
                owner, record, sum(w.length_s for w in worklogs), sum(w.billable_length_s for w in worklogs)
            ))
    return items

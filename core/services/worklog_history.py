"""A worklog's change history (issue #17): every add, edit and delete, oldest first.

The rows are written by the tracking repository with each worklog write; this only reads
them, with the names of the people who made them. Whether the caller may read another
user's history is the edge's question (the same as for their worklogs); this answers whose
worklog it was, a deleted one's included.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import NotFound
from core.tenancy import Tenant
from core.tracking.history import ChangeCursor, WorklogChange
from core.unit_of_work import UnitOfWorkFactory

__all__ = ["WorklogHistory", "worklog_history"]


@dataclass(frozen=True, slots=True)
class WorklogHistory:
    """Whose worklog it is (or was), its changes oldest first, and the actors' names."""

    worklog_id: str
    owner_id: str
    changes: list[WorklogChange]
    #: Actor id → display name (an actor no longer in the tenant: absent).
    actor_names: dict[str, str]


async def worklog_history(
    uow: UnitOfWorkFactory, *, tenant: Tenant, worklog_id: str,
    after: ChangeCursor | None = None, limit: int | None = None,
) -> WorklogHistory:
    """A page of the changes (``after``, ``limit``); 404 when the tenant never had the
    worklog (or kept no trace of it)."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        repo = scope.tracking()
        current = await repo.worklog(worklog_id)
        owner = current.user_id if current is not None else None
        if owner is None:  # deleted (or never there): whose it was, from its first change
            first = await repo.worklog_history(worklog_id, limit=1)
            owner = first[0].user_id if first else None
        if owner is None:
            raise NotFound("there is no such worklog")
        changes = await repo.worklog_history(worklog_id, after=after, limit=limit)
        users = scope.users()
        names: dict[str, str] = {}
        for actor_id in dict.fromkeys(c.actor_id for c in changes if c.actor_id is not None):
            user = await users.get(actor_id)
            if user is not None:
                names[actor_id] = user.name
    return WorklogHistory(worklog_id, owner, changes, names)

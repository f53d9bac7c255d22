"""A worklog's change history as ``GET /api/v1/worklogs/{id}/history`` answers it, a page at a
time, to a caller who may read the owner's worklogs (the worklog history page reads it too)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import msgspec

from core.errors import AccessDenied, NotFound
from core.services.worklog_history import WorklogHistory, worklog_history
from core.tracking.history import ChangeCursor

from ..auth import TenantPrincipal
from ..schemas import opaque_cursor
from .worklog_access import principal_may_see
from .worklog_answers import cursor_instant_and_id

__all__ = ["WorklogHistoryOut", "history_out", "readable_history"]


class ActorOut(msgspec.Struct):
    #: None: no user made the change (a background job).
    id: str | None
    name: str | None


class FieldChangeOut(msgspec.Struct):
    before: str | int | None
    after: str | int | None


class WorklogChangeOut(msgspec.Struct):
    at: datetime
    actor: ActorOut
    #: api, page, import, timer, app, sync or system.
    source: str
    #: added (after only), edited (the fields it changed), deleted (before only).
    action: str
    changes: dict[str, FieldChangeOut]


class WorklogHistoryOut(msgspec.Struct):
    items: list[WorklogChangeOut]
    next_cursor: str | None = None


def history_out(history: WorklogHistory, next_cursor: str | None = None) -> WorklogHistoryOut:
    return WorklogHistoryOut(next_cursor=next_cursor, items=[
        WorklogChangeOut(
            at=change.at,
            actor=ActorOut(change.actor_id, history.actor_names.get(change.actor_id or "")),
            source=change.source, action=change.action.value,
            changes={name: FieldChangeOut(c.before, c.after) for name, c in change.changes.items()},
        )
        for change in history.changes
    ])


def _history_cursor(cursor: str) -> ChangeCursor:
    return ChangeCursor(*cursor_instant_and_id(cursor))


async def readable_history(
    principal: TenantPrincipal, stint: Any, worklog_id: str, *, cursor: str = "", limit: int | None = None,
) -> tuple[WorklogHistory, str | None]:
    """A page of the history and the next page's cursor, if the caller may read the owner's
    worklogs; else 404, as if it did not exist (a Team user learns nothing of another
    user's worklogs)."""
    history = await worklog_history(
        stint.uow, tenant=principal.tenant, worklog_id=worklog_id,
        after=_history_cursor(cursor) if cursor else None, limit=None if limit is None else limit + 1,
    )
    try:
        await principal_may_see(principal, stint, history.owner_id)
    except AccessDenied:
        raise NotFound("there is no such worklog") from None
    if limit is None or len(history.changes) <= limit:
        return history, None
    page = history.changes[:limit]
    last = page[-1]
    return replace(history, changes=page), opaque_cursor(f"{last.at.isoformat()}|{last.id}")

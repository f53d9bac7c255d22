"""The worklog as ``/api/v1`` answers it — one at a time (:class:`WorklogOut`, with its work
item's title and its budget) or a page at a time (:class:`WorklogPage` and its opaque cursor) —
and how a request names a work item (:data:`WorkItemRef`, :func:`item_text`). Shared by the
worklogs, timer and explorer controllers."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated

import msgspec

from core.budgets import NO_BUDGET, Assignment, Resolution
from core.errors import ValidationFailed
from core.services.budgets import resolve_worklogs
from core.services.planning import work_item_titles
from core.tenancy import Tenant
from core.tracking import Worklog, WorklogFlag, check_instant
from core.tracking.ports import WorklogCursor
from plugins.bootstrap import Stint

from ..schemas import BudgetRef, cursor_text, opaque_cursor

__all__ = [
    "WorkItemRef",
    "WorklogOut",
    "WorklogPage",
    "cursor_instant_and_id",
    "decode_cursor",
    "encode_cursor",
    "item_text",
    "page_item",
    "titled",
    "with_budgets",
    "worklog_out",
]

WorkItemRef = int | Annotated[str, msgspec.Meta(max_length=200)]


class WorklogOut(msgspec.Struct):
    id: str
    user_id: str
    started_at: datetime
    length_s: int
    billable_length_s: int
    work_item: str | None
    comment: str | None
    activity_type: str | None
    added_by: str
    flags: list[str]
    #: The work item's title, shown next to its id (None: no item).
    work_item_title: str | None = None
    #: The budget the worklog resolves to and how (SPEC §12).
    budget: BudgetRef = msgspec.field(default_factory=lambda: BudgetRef(None, Assignment.NONE.value))
    #: The activity type catalogue entry; ``activity_type`` is its current name.
    activity_type_id: str | None = None


@functools.lru_cache(maxsize=64)  # a handful of flag sets, shared by the rows that hold them
def _flag_names(flags: frozenset[WorklogFlag]) -> tuple[str, ...]:
    return tuple(sorted(flag.value for flag in flags))


def worklog_out(
    worklog: Worklog, titles: Mapping[str, str] | None = None,
    budgets: Mapping[str, Resolution] | None = None,
) -> WorklogOut:
    resolution = budgets.get(worklog.id, NO_BUDGET) if budgets else NO_BUDGET
    return WorklogOut(
        id=worklog.id,
        user_id=worklog.user_id,
        started_at=worklog.started_at,
        length_s=worklog.length_s,
        billable_length_s=worklog.billable_length_s,
        work_item=worklog.work_item,
        comment=worklog.comment,
        activity_type=worklog.activity_type,
        added_by=worklog.added_by,
        flags=list(_flag_names(worklog.flags)),
        work_item_title=titles.get(worklog.work_item or "") if titles else None,
        budget=BudgetRef(resolution.budget_id, resolution.assignment.value),
        activity_type_id=worklog.activity_type_id,
    )


#: The budget of every item of a page whose tenant assigns no budget. One instance shared by
#: those items (only encoded, never changed: an item with a budget gets its own).
_NO_BUDGET_REF = BudgetRef(NO_BUDGET.budget_id, NO_BUDGET.assignment.value)


def page_item(
    id: str, user_id: str, started_at: datetime, length_s: int, billable_length_s: int,
    work_item: str | None, comment: str | None, activity_type: str | None, added_by: str,
    flags: frozenset[WorklogFlag], owner_edited: bool, activity_type_id: str | None, title: str | None,
) -> WorklogOut:
    """The explorer page's item straight from its stored row (``PageShape``): what
    :func:`worklog_out` answers for that worklog with its work item's ``title``, without
    the :class:`Worklog` in between; its budget is NoBudget until :func:`with_budgets` sets it.
    The page makes up to 501 per request, and building each row twice (a ``Worklog``, then
    this) was most of the Python it spent on its rows (docs/benchmarks.md, "Times Explorer").
    ``tests/integration/test_explorer_items.py`` holds it equal to ``worklog_out``."""
    return WorklogOut(
        id=id, user_id=user_id, started_at=started_at, length_s=length_s,
        billable_length_s=billable_length_s, work_item=work_item, comment=comment,
        activity_type=activity_type, added_by=added_by, flags=list(_flag_names(flags)),
        work_item_title=title, budget=_NO_BUDGET_REF, activity_type_id=activity_type_id,
    )


def with_budgets(items: Sequence[WorklogOut], budgets: Mapping[str, Resolution]) -> None:
    """Set each item's budget from ``budgets`` (by worklog id; missing: NoBudget), as
    :func:`worklog_out` sets it."""
    if not budgets:
        return
    for item in items:
        resolution = budgets.get(item.id, NO_BUDGET)
        item.budget = BudgetRef(resolution.budget_id, resolution.assignment.value)


async def titled(stint: Stint, tenant: Tenant, worklogs: Sequence[Worklog]) -> list[WorklogOut]:
    """The worklogs as answered, each with its work item's title and its budget."""
    titles = await work_item_titles(stint.uow, tenant=tenant, names=[w.work_item for w in worklogs])
    budgets = await resolve_worklogs(
        stint.uow, tenant=tenant, worklogs=[(w.id, w.work_item) for w in worklogs]
    )
    return [worklog_out(w, titles, budgets) for w in worklogs]


def item_text(value: int | str | None) -> str | None:
    """A work item sent as a JSON integer or a string (of digits, checked by the use case)."""
    return str(value) if isinstance(value, int) else value


class WorklogPage(msgspec.Struct):
    items: list[WorklogOut]
    next_cursor: str | None


def encode_cursor(worklog: Worklog | WorklogOut) -> str:
    """Where the next page starts: opaque to clients, the last item's ``(started_at, id)``."""
    return opaque_cursor(f"{worklog.started_at.isoformat()}|{worklog.id}")


def cursor_instant_and_id(cursor: str) -> tuple[datetime, str]:
    """An opaque ``instant|id`` cursor read back (the worklog pages' and a history's)."""
    bad = ValidationFailed("this cursor did not come from a previous page", field="cursor")
    try:
        stamp, _, last_id = cursor_text(cursor).partition("|")
        when = check_instant(datetime.fromisoformat(stamp), "cursor")
    except (ValueError, ValidationFailed):
        raise bad from None
    if not last_id:
        raise bad
    return when, last_id


def decode_cursor(cursor: str) -> WorklogCursor:
    return WorklogCursor(*cursor_instant_and_id(cursor))

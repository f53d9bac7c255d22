"""Worklog import (SPEC §8): the rows of a CSV or Excel file become worklogs, all or nothing.

Checking the rows is the long part (seconds for 100,000 of them) and needs no lock. So
what the check depends on — the users the importer may name, their time zones, the lock
date and the weeks' statuses — is read in a read unit of work, every row is checked
against it, and only then is the write unit of work taken (on SQLite: the database's one
write lock, which every other tenant's write waits for). Under it those rules are read
again; if they changed meanwhile (a week approved, a user added), the rows are checked
again there, so the outcome is the one a check under the lock would give. The worklogs and
one work-item effect per work item then go in a few statements, in one transaction: a
failure anywhere stores nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from core.clock import Clock, today_in
from core.errors import ValidationFailed
from core.ids import new_id, new_ids
from core.tenancy import Tenant, User
from core.tracking import (
    LockPolicy,
    NumberedRow,
    RowError,
    WeekStatus,
    Worklog,
    create_worklog,
    is_locked,
    local_day,
    parse_rows,
    week_of,
)
from core.tracking.ports import StagedWorklogs, UserWeek, WorkItemEffect
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .budgets import ensure_budget_open
from .planning import parse_work_item_id
from .tracking_common import all_users, check_limits, import_effects

__all__ = ["ImportRejected", "UnknownWorkItemRows", "import_worklogs"]

class ImportRejected(ValidationFailed):
    """An import with bad rows stores nothing; ``errors`` lists every bad line and why."""

    code = "import_rejected"


class UnknownWorkItemRows(ImportRejected):
    """Rows that name work items the mirror does not hold (``unknown_work_item``)."""

    code = "unknown_work_item"


@dataclass(frozen=True, slots=True)
class _Rules:
    """What a row's check depends on besides the row."""

    known: Mapping[str, str]  # e-mail → user id: the users the importer may name
    zones: Mapping[str, str]  # user id → the zone their days are counted in
    lock: LockPolicy
    statuses: Mapping[UserWeek, WeekStatus]  # only the weeks that are not open
    activity_types: Mapping[str, tuple[str, str]]  # name → (id, name): the active catalogue
    require_work_item: bool = False  # "tracking without work item" is off: item or comment


async def _read_rules(
    scope: TenantScope, tenant: Tenant, actor: User, for_others: bool, today: date
) -> _Rules:
    repo = scope.tracking()
    users = await all_users(scope) if for_others else [actor]
    own = await repo.time_zones()
    settings = await repo.rules()
    lock = settings.lock.as_of(today)
    statuses = await repo.week_statuses(None if for_others else actor.id)
    catalogue = await scope.activity_types().all()
    return _Rules(
        activity_types={entry.name: (entry.id, entry.name) for entry in catalogue if entry.active},
        known={user.email: user.id for user in users},
        zones={user.id: own.get(user.id) or tenant.time_zone for user in users},
        lock=lock,
        statuses=statuses,
        require_work_item=not settings.rules.tracking_without_work_item,
    )


def _week_lock(rules: _Rules) -> Callable[[str, datetime], bool] | None:
    """Whether a user's worklog starting then lies in a locked week; None: nothing is locked."""
    locked_until = rules.lock.locked_until
    with_status = {week.user_id for week in rules.statuses}
    if locked_until is None and not with_status:
        return None
    # A local day is at most one day off the UTC one: a start two UTC days past the lock
    # date, by a user with no approved or closed week, is open without a zone conversion.
    open_after = None if locked_until is None else locked_until + timedelta(days=1)

    def week_locked(user_id: str, started_at: datetime) -> bool:
        if user_id not in with_status and (open_after is None or started_at.date() > open_after):
            return False
        day = local_day(started_at, rules.zones[user_id])
        status = rules.statuses.get(UserWeek(user_id, str(week_of(day))), WeekStatus.OPEN)
        return is_locked(day, status, rules.lock)

    return week_locked


def _check_rows(
    rows: Sequence[NumberedRow], rules: _Rules, actor_id: str, time_zone: str, ids: Sequence[str]
) -> tuple[list[Worklog], list[RowError]]:
    """``ids``: one for each of ``rows``, handed out in order (a row that makes no worklog
    leaves one over)."""
    result = parse_rows(rows, rules.known, added_by=actor_id, time_zone=time_zone,
                        activity_types=rules.activity_types, week_locked=_week_lock(rules),
                        require_work_item=rules.require_work_item)
    if result.errors:
        return [], list(result.errors)
    return [create_worklog(draft, id_) for draft, id_ in zip(result.drafts, ids, strict=False)], []


def _import_ids(count: int) -> list[str]:
    """``count`` new worklog ids (random, as ever), sorted: handed out in row order, an
    import's ids ascend with its rows. Rows are usually in time order, so every index of
    the worklogs and their history rows — the id, (started_at, id), (worklog_id, …) ones —
    takes the import's entries as appends instead of random inserts: on SQLite, a third
    less CPU under the write lock for 100,000 rows (docs/benchmarks.md, Imports)."""
    return sorted(new_ids(count))


#: Rows checked per step; a background import records how far it got after each.
CHECK_STEP = 5000

#: Told how far an import got: ``("checking", rows checked)``, then ``("storing", rows)``.
Progress = Callable[[str, int], Awaitable[None]]


async def _checked(
    rows: Sequence[NumberedRow], rules: _Rules, *, actor: User, time_zone: str,
    progress: Progress | None = None,
) -> list[Worklog]:
    """Every row checked and made a worklog; ImportRejected names every bad line.

    The check is pure Python and takes seconds for a big file: it runs in a worker thread,
    a step of rows at a time, so that the event loop goes on serving the process's other
    requests meanwhile (and a background import can say how far it got). Rows are
    independent of each other, so checking them in steps finds exactly what one pass does.
    """
    worklogs: list[Worklog] = []
    errors: list[RowError] = []
    ids = await asyncio.to_thread(_import_ids, len(rows))
    for start in range(0, len(rows), CHECK_STEP):
        made, bad = await asyncio.to_thread(
            _check_rows, rows[start:start + CHECK_STEP], rules, actor.id, time_zone,
            ids[start:start + CHECK_STEP])
        worklogs.extend(made)
        errors.extend(bad)
        if progress is not None:
            await progress("checking", min(start + CHECK_STEP, len(rows)))
    if errors:
        raise ImportRejected(
            f"{len(errors)} row(s) are not valid; nothing was imported",
            errors=[{"line": e.line, "reason": e.reason} for e in errors],
        )
    return worklogs


@dataclass(frozen=True, slots=True)
class _Summary:
    """What the write unit of work needs to know of the checked worklogs as a whole, worked
    out before it starts: each is a pass over every worklog (tens of milliseconds of pure
    Python for 100,000, and the garbage they make can start a full collection), which
    under SQLite's write lock every other tenant's write would wait for."""

    named: frozenset[str]  # the work items the rows name, as written
    by_user: Mapping[str, int]  # user id → how many worklogs
    effects: list[WorkItemEffect]  # one work-item effect per item (``import_effects``)


def _summary(worklogs: Sequence[Worklog], import_id: str) -> _Summary:
    by_user: dict[str, int] = {}
    for worklog in worklogs:
        by_user[worklog.user_id] = by_user.get(worklog.user_id, 0) + 1
    return _Summary(named=frozenset(w.work_item for w in worklogs if w.work_item is not None),
                    by_user=by_user, effects=import_effects(worklogs, import_id))


async def _known_work_items(
    scope: TenantScope, rows: Sequence[NumberedRow], worklogs: list[Worklog],
    named: frozenset[str] | None = None,
) -> list[Worklog]:
    """The worklogs with their work items as canonical ids of the mirror; a row naming an
    item the mirror does not hold rejects the import (every such line named). ``named``:
    the work items ``worklogs`` name, when known already."""
    if named is None:
        named = frozenset(w.work_item for w in worklogs if w.work_item is not None)
    if not named:
        return worklogs
    canonical: dict[str, str] = {}
    for text in named:
        try:
            item_id = parse_work_item_id(text)
        except ValidationFailed:
            continue
        if item_id is not None:
            canonical[text] = str(item_id)
    found = await scope.work_items().many([int(c) for c in set(canonical.values())])
    unknown = {text for text in named if text not in canonical or int(canonical[text]) not in found}
    if unknown:
        # Every row made a worklog (the rows were checked), so they pair up in order.
        lines = [row.line for row, w in zip(rows, worklogs, strict=False) if w.work_item in unknown]
        raise UnknownWorkItemRows(
            f"{len(lines)} row(s) name a work item that does not exist; nothing was imported",
            errors=[{"line": line, "reason": "there is no such work item"} for line in lines],
        )
    if all(canonical[text] == text for text in named):
        return worklogs
    return [
        w if w.work_item is None or canonical[w.work_item] == w.work_item
        else replace(w, work_item=canonical[w.work_item])
        for w in worklogs
    ]


async def import_worklogs(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User,
    rows: Sequence[NumberedRow], may_import_for_others: bool, time_zone: str,
    progress: Progress | None = None,
) -> list[Worklog]:
    """All or nothing: every row is checked; one bad row and nothing is stored.

    ``progress`` is told how far the check got, a step of rows at a time, and once every
    row has passed, before they are stored (a background import's progress bar)."""
    today = today_in(clock)
    async with uow() as work:
        rules = await _read_rules(work.tenant(tenant.id), tenant, actor, may_import_for_others, today)
    worklogs = await _checked(rows, rules, actor=actor, time_zone=time_zone, progress=progress)
    if progress is not None:
        await progress("storing", len(rows))
    summary = await asyncio.to_thread(_summary, worklogs, new_id())
    # Handed to the write unit of work before it starts: on SQLite their rows are staged on
    # its connection before it takes the database's write lock (``StagedWorklogs``).
    staged = StagedWorklogs(tenant.id, worklogs, clock.now())
    async with uow(write=True, staged=staged) as work:
        scope = work.tenant(tenant.id)
        now_rules = await _read_rules(scope, tenant, actor, may_import_for_others, today)
        if now_rules != rules:
            worklogs = await _checked(rows, now_rules, actor=actor, time_zone=time_zone)
            summary = await asyncio.to_thread(_summary, worklogs, new_id())
        checked = worklogs
        worklogs = await _known_work_items(scope, rows, worklogs, summary.named)
        if worklogs is not checked:  # work items renamed to their canonical ids
            summary = await asyncio.to_thread(_summary, worklogs, new_id())
        await check_limits(scope, work.directory.catalogue, summary.by_user)
        await ensure_budget_open(scope, *summary.named)
        repo = scope.tracking()
        # Checked again under the lock, or work items renamed: other worklogs than staged,
        # written as they are (still as one import).
        await repo.add_staged_worklogs(
            staged if worklogs is staged.worklogs else replace(staged, worklogs=worklogs))
        await repo.enqueue_work_items(summary.effects, staged.at)
        await work.commit()
    return worklogs

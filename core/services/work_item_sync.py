"""One tenant's Azure DevOps work item sync: the mirror catches up with what changed.

Iterations first (matched to the mirror's by their DevOps GUID, else by path, so a mirrored
iteration keeps its id), then the items changed since the watermark, a page at a time, each
page upserted in one short write unit of work. The watermark (the newest ``ChangedDate``
stored) moves only when the last page is stored: a run that fails part-way stores what it
read (upserts by id), records the error, and the next run starts again from the old
watermark — repeating pages is harmless, so it ends where an uninterrupted run would have.

Items are placed in iterations by path (an iteration the team does not list is mirrored
without dates; the project's root path is no iteration); an assignee whose DevOps unique
name is a tenant user's e-mail is that user.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from core.clock import Clock
from core.identity.ports import UserRepository
from core.unit_of_work import UnitOfWorkFactory
from core.work_items import Assignee, Iteration, WorkItem
from core.work_items.ports import DevOpsWorkItems, SyncPage, SyncState, WorkItemRepository

__all__ = ["SyncRun", "sync_work_items"]

#: Longest error text kept in the sync state (what the page and the API show).
_ERROR_MAX = 500


@dataclass(frozen=True, slots=True)
class SyncRun:
    """What a run did: the state it left, its pages and items, and whether it completed."""

    state: SyncState
    pages: int
    items: int
    completed: bool


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= _ERROR_MAX else text[: _ERROR_MAX - 1] + "…"


async def _mirror_iterations(
    repo: WorkItemRepository, found: Sequence[Iteration], at: datetime
) -> dict[str, int]:
    """Upsert DevOps' iterations under the mirror's ids; every mirrored path → its id."""
    mirrored = await repo.iterations()
    by_guid = {it.external_id: it for it in mirrored if it.external_id}
    by_path = {it.path: it for it in mirrored}
    merged: list[Iteration] = []
    for iteration in found:
        known = (by_guid.get(iteration.external_id) if iteration.external_id else None) or by_path.get(
            iteration.path
        )
        if known is None:
            known = await repo.create_iteration(iteration.path, iteration.start, iteration.finish, at)
        merged.append(replace(iteration, id=known.id))
    await repo.upsert_iterations(merged)
    paths = {it.path: it.id for it in mirrored}
    paths.update((it.path, it.id) for it in merged)
    return paths


class _Resolver:
    """Iteration paths and assignees to the mirror's ids, remembered for the run."""

    def __init__(self, paths: dict[str, int], at: datetime) -> None:
        self.paths = paths
        self.users: dict[str, str | None] = {}
        self.at = at

    async def iteration_id(self, repo: WorkItemRepository, path: str | None) -> int | None:
        if path is None or "\\" not in path:
            return None  # the project's root: planned in no iteration
        if path not in self.paths:
            made = await repo.create_iteration(path, None, None, self.at)
            self.paths[path] = made.id
        return self.paths[path]

    async def assignee(self, users: UserRepository, who: Assignee | None) -> Assignee | None:
        if who is None or not who.unique_name or "@" not in who.unique_name:
            return who
        key = who.unique_name.lower()
        if key not in self.users:
            user = await users.by_email(key)
            self.users[key] = None if user is None else user.id
        return replace(who, user_id=self.users[key])


async def _store_page(
    uow: UnitOfWorkFactory, tenant_id: str, page: SyncPage, resolver: _Resolver
) -> None:
    async with uow(write=True) as work:
        scope = work.tenant(tenant_id)
        repo = scope.work_items()
        users = scope.users()
        items: list[WorkItem] = []
        for item in page.items:
            items.append(replace(
                item,
                iteration_id=await resolver.iteration_id(repo, page.iteration_paths.get(item.id)),
                assigned_to=await resolver.assignee(users, item.assigned_to),
            ))
        await repo.upsert(items)
        await work.commit()


async def _update_state(
    uow: UnitOfWorkFactory, tenant_id: str, change: Callable[[SyncState], SyncState]
) -> SyncState:
    """Store ``change`` of the state as it is now (another run may have moved it meanwhile)."""
    async with uow(write=True) as work:
        repo = work.tenant(tenant_id).work_items()
        state = change(await repo.sync_state())
        await repo.save_sync_state(state)
        await work.commit()
    return state


async def sync_work_items(
    uow: UnitOfWorkFactory, clock: Clock, devops: DevOpsWorkItems, *, tenant_id: str
) -> SyncRun:
    """Run one sync of ``tenant_id``'s mirror from ``devops``.

    Never raises for what DevOps or the network does: the run's error is kept in the sync
    state (``last_error``) and the returned run is not ``completed``.
    """
    started = clock.now()
    before = await _update_state(uow, tenant_id, lambda state: replace(state, last_run_at=started))
    pages = seen = 0
    newest = before.watermark
    try:
        found = await devops.iterations()
        async with uow(write=True) as work:
            paths = await _mirror_iterations(work.tenant(tenant_id).work_items(), found, started)
            await work.commit()
        resolver = _Resolver(paths, started)
        continuation: str | None = None
        while True:
            page = await devops.changed_since(before.watermark, continuation)
            await _store_page(uow, tenant_id, page, resolver)
            pages += 1
            seen += len(page.items)
            for item in page.items:
                if newest is None or item.changed_at > newest:
                    newest = item.changed_at
            if page.continuation is None:
                break
            continuation = page.continuation
    except Exception as exc:
        error = _error_text(exc)
        # The watermark stays where it is now: this run's own one was never reached.
        failed = await _update_state(
            uow, tenant_id, lambda state: replace(state, last_error=error, items_seen=seen)
        )
        return SyncRun(failed, pages, seen, completed=False)

    def completed(state: SyncState) -> SyncState:
        # Another run may have finished meanwhile: the watermark never moves back.
        mark = newest
        if state.watermark is not None and (mark is None or state.watermark > mark):
            mark = state.watermark
        return SyncState(watermark=mark, last_run_at=started, last_success_at=clock.now(),
                         last_error=None, items_seen=seen)

    done = await _update_state(uow, tenant_id, completed)
    return SyncRun(done, pages, seen, completed=True)

"""Running the work item sync (``core/services/work_item_sync.py``) for tenants connected to
Azure DevOps: every tenant from the ``work_item_sync`` job, one tenant on demand ("Sync now",
``POST /api/v1/work-items/sync``).

Each tenant's source is built from its stored connection the way the write-back job builds
its connector (``tenants.py``: the outbound check for cloud tenants, the sealed token
opened), on one HTTP client per run. A connection that cannot be used fails that tenant's
run with the reason in its sync state; the other tenants sync.

On demand, the run is started on the web process's event loop and the request answers at
once (202); a second request for a tenant whose run is still going here starts nothing.
Two runs of one tenant in different processes (the job and a "Sync now") are harmless:
upserts are idempotent and the watermark never moves back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx

from core.clock import Clock
from core.errors import Conflict
from core.services.work_item_sync import SyncRun, sync_work_items
from core.unit_of_work import UnitOfWorkFactory
from core.work_items import Iteration
from core.work_items.ports import SyncPage, SyncState

from .azure_work_items import AzureDevOpsWorkItems
from .tenants import AzureConnection, DevOpsSettings

__all__ = ["NoAzureDevOps", "SyncStarted", "WorkItemSyncs"]

log = logging.getLogger("stint.work_item_sync")

_TIMEOUT = 30.0


class NoAzureDevOps(Conflict):
    """The tenant is standalone: its work items are Stint's own, there is nothing to sync."""

    code = "not_synced_from_devops"


class _Unusable:
    """A tenant whose connection cannot be used: the run fails with the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def changed_since(self, watermark: object, continuation: str | None) -> SyncPage:
        raise RuntimeError(self.reason)

    async def iterations(self) -> list[Iteration]:
        raise RuntimeError(self.reason)


@dataclass(frozen=True, slots=True)
class SyncStarted:
    """What "Sync now" answers: whether this request started a run, and the state so far."""

    started: bool
    running: bool
    state: SyncState


class WorkItemSyncs:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, devops: DevOpsSettings, *, page_size: int = 200
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._devops = devops
        self._page_size = page_size
        self._running: dict[str, asyncio.Task[SyncRun]] = {}

    def _source(
        self, found: AzureConnection | str, client: httpx.AsyncClient
    ) -> AzureDevOpsWorkItems | _Unusable:
        if isinstance(found, str):
            return _Unusable(found)
        if not found.project:
            return _Unusable("the Azure DevOps connection names no project; the sync reads one project")
        return AzureDevOpsWorkItems(found.organization_url, found.pat, project=found.project,
                                    client=client, page_size=self._page_size)

    async def run_all(self) -> dict[str, int]:
        """The job: every Azure DevOps tenant, one after another."""
        connections = await self._devops.azure_connections()
        counts = {"tenants": 0, "items": 0, "failed": 0}
        if not connections:
            return counts
        async with httpx.AsyncClient(timeout=_TIMEOUT) as client:
            for tenant_id, found in sorted(connections.items()):
                run = await sync_work_items(self._uow, self._clock, self._source(found, client),
                                            tenant_id=tenant_id)
                counts["tenants"] += 1
                counts["items"] += run.items
                if not run.completed:
                    counts["failed"] += 1
                    log.warning("work item sync failed: %s", run.state.last_error,
                                extra={"tenant": tenant_id})
        return counts

    async def run_tenant(self, tenant_id: str) -> SyncRun:
        """One tenant's run, now (``NoAzureDevOps`` when it is standalone)."""
        found = (await self._devops.azure_connections(tenant_id)).get(tenant_id)
        if found is None:
            raise NoAzureDevOps("the work items are Stint's own (standalone connector): "
                                "connect Azure DevOps in the DevOps settings to sync them")
        async with httpx.AsyncClient(timeout=_TIMEOUT) as client:
            return await sync_work_items(self._uow, self._clock, self._source(found, client),
                                         tenant_id=tenant_id)

    async def state(self, tenant_id: str) -> SyncState:
        async with self._uow() as work:
            return await work.tenant(tenant_id).work_items().sync_state()

    def running(self, tenant_id: str) -> bool:
        task = self._running.get(tenant_id)
        return task is not None and not task.done()

    async def start(self, tenant_id: str) -> SyncStarted:
        """"Sync now": start a run in the background unless one is going here already."""
        if (await self._devops.azure_connections(tenant_id)).get(tenant_id) is None:
            raise NoAzureDevOps("the work items are Stint's own (standalone connector): "
                                "connect Azure DevOps in the DevOps settings to sync them")
        started = False
        if not self.running(tenant_id):
            task = asyncio.get_running_loop().create_task(
                self._background(tenant_id), name=f"work-item-sync:{tenant_id}"
            )
            self._running[tenant_id] = task
            started = True
        return SyncStarted(started, True, await self.state(tenant_id))

    async def _background(self, tenant_id: str) -> SyncRun:
        try:
            run = await self.run_tenant(tenant_id)
            if not run.completed:
                log.warning("work item sync failed: %s", run.state.last_error, extra={"tenant": tenant_id})
            return run
        except Exception:
            log.exception("work item sync could not run", extra={"tenant": tenant_id})
            raise
        finally:
            self._running.pop(tenant_id, None)

    async def stop(self) -> None:
        """Shutting down: cancel the runs started here (each is repeated by the next run)."""
        tasks = [task for task in self._running.values() if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def wait(self) -> None:
        """Let the runs started here finish (shutdown, and tests)."""
        tasks = [task for task in self._running.values() if not task.done()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

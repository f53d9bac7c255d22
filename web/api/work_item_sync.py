"""``/api/v1/work-items/sync``: the Azure DevOps work item sync of the caller's tenant.

``GET`` shows where the last run got to (the page's "last synced"); ``POST`` is "Sync now":
a run starts in the background and the answer is 202 with the state so far (poll ``GET``
for the outcome). Administrators only. A standalone tenant has nothing to sync: 409
``not_synced_from_devops``. A run that is already going in this process is not started
twice (``started`` false).
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Controller, get, post

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.work_items.ports import SyncState

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep

__all__ = ["WorkItemSyncController"]



class WorkItemSyncOut(msgspec.Struct):
    running: bool
    started: bool
    watermark: datetime | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    items_seen: int


def _out(state: SyncState, *, running: bool, started: bool = False) -> WorkItemSyncOut:
    return WorkItemSyncOut(
        running=running, started=started, watermark=state.watermark, last_run_at=state.last_run_at,
        last_success_at=state.last_success_at, last_error=state.last_error, items_seen=state.items_seen,
    )


class WorkItemSyncController(Controller):
    path = "/work-items/sync"
    tags = ("work items",)

    @get("/", summary="Where the Azure DevOps work item sync got to",
         guards=[requires(Action.MANAGE_SETTINGS, Scope.ADMIN)])
    async def show(self, request: TenantRequest, stint: StintDep) -> WorkItemSyncOut:
        tenant_id = request.user.tenant.id
        syncs = stint.work_item_syncs
        return _out(await syncs.state(tenant_id), running=syncs.running(tenant_id))

    @post("/", status_code=202, summary="Sync the work items from Azure DevOps now",
          guards=[requires(Action.MANAGE_SETTINGS, Scope.ADMIN)])
    async def start(self, request: TenantRequest, stint: StintDep) -> WorkItemSyncOut:
        begun = await stint.work_item_syncs.start(request.user.tenant.id)
        return _out(begun.state, running=begun.running, started=begun.started)

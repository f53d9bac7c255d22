"""``/api/v1/settings/devops``: the tenant's DevOps connection (Administrators only).

``kind`` is ``standalone`` (local work items, the default) or ``azure_devops`` with an
``https://`` organisation URL, an optional project and a personal access token. The
token is write-only: answers say ``pat_set`` and never contain it; leaving ``pat`` out
keeps the stored one (unless the organisation changes). Bad input is 422 naming the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, put
from litestar.params import JSONBody

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.devops import (
    DevOpsConnectionChange,
    DevOpsConnectionView,
)

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import Strict

__all__ = ["DevOpsConnectionController"]



class DevOpsConnectionIn(Strict):
    kind: Annotated[str, msgspec.Meta(max_length=32)]
    organization_url: Annotated[str, msgspec.Meta(max_length=2048)] | None = None
    project: Annotated[str, msgspec.Meta(max_length=256)] | None = None
    pat: Annotated[str, msgspec.Meta(max_length=2048)] | None = None


class DevOpsConnectionOut(msgspec.Struct):
    kind: str
    organization_url: str | None
    project: str | None
    pat_set: bool
    updated_at: datetime | None


def _out(view: DevOpsConnectionView) -> DevOpsConnectionOut:
    return DevOpsConnectionOut(
        kind=view.kind.value, organization_url=view.organization_url, project=view.project,
        pat_set=view.pat_set, updated_at=view.updated_at,
    )


class DevOpsConnectionController(Controller):
    path = "/settings/devops"
    tags = ("settings",)

    @get("/", summary="The tenant's DevOps connection (never the token)",
         guards=[requires(Action.MANAGE_SETTINGS, Scope.ADMIN)])
    async def show(self, request: TenantRequest, stint: StintDep) -> DevOpsConnectionOut:
        view = await stint.devops.view(request.user.tenant)
        return _out(view)

    @put("/", summary="Choose the work-item connector: standalone or Azure DevOps",
         guards=[requires(Action.MANAGE_SETTINGS, Scope.ADMIN)])
    async def change(
        self, request: TenantRequest, data: JSONBody[DevOpsConnectionIn], stint: StintDep
    ) -> DevOpsConnectionOut:
        principal = request.user
        view = await stint.devops.save(
            tenant=principal.tenant, actor=principal.user,
            change=DevOpsConnectionChange(data.kind, data.organization_url, data.project, data.pat),
        )
        return _out(view)

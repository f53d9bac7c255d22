"""A tenant's archive over HTTP: ``GET /api/v1/export`` (its Administrators) and the
operator's ``GET /api/v1/operator/tenants/{slug}/export`` and ``POST …/purge``.

The archive is written to a temporary file first (the writer streams rows from the
database, so memory stays flat however large the tenant is) and then sent as a file; the
file is removed once sent, or when writing it fails.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath, JSONBody
from litestar.response import File

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.retention import purge_tenant_now
from core.services.tenant_data import export_tenant_data, operator_export

from ..access import requires
from ..auth import OperatorPrincipal, TenantPrincipal
from ..deps import StintDep
from ..schemas import Strict
from ..security import client_address

__all__ = ["OperatorTenantDataController", "TenantDataController", "archive_file"]

ZIP = "application/zip"


@dataclass
class ArchiveDownload(Operation):
    """The archive's OpenAPI operation: its 200 is a ZIP file, not JSON."""

    def __post_init__(self) -> None:
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(
                description="The archive (Content-Disposition: attachment)",
                content={ZIP: OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))},
            ),
        }


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


async def archive_file(slug: str, day: str, write: Callable[[Path], Awaitable[object]]) -> File:
    """``write`` the archive into a temporary file and answer it as a download."""
    handle, name = tempfile.mkstemp(prefix="stint-export-", suffix=".zip")
    os.close(handle)
    path = Path(name)
    try:
        await write(path)
    except BaseException:
        _remove(path)
        raise
    return File(path=path, filename=f"stint-{slug}-{day}.zip", media_type=ZIP,
                background=BackgroundTask(_remove, path))


class TenantDataController(Controller):
    path = "/export"
    tags = ("tenant data",)

    @get("/", guards=[requires(Action.EXPORT_TENANT_DATA, Scope.ADMIN)], media_type=ZIP,
         operation_class=ArchiveDownload,
         summary="Every record of the tenant as one signed archive")
    async def export(self, request: Request[TenantPrincipal, Any, Any], stint: StintDep) -> File:
        tenant, user = request.user.tenant, request.user.user

        def write(out: Path) -> Awaitable[object]:
            return export_tenant_data(stint.uow, stint.clock, stint.tenant_archives, tenant=tenant, user=user,
                                      out=out, address=client_address(request))

        return await archive_file(tenant.slug, stint.clock.now().date().isoformat(), write)


class PurgeIn(Strict):
    #: The tenant's slug again: a purge cannot be undone.
    confirm: Annotated[str, msgspec.Meta(max_length=200)]


class PurgedOut(msgspec.Struct):
    tenant: str
    deleted: dict[str, int]


class OperatorTenantDataController(Controller):
    path = "/tenants/{slug:str}"
    tags = ("operator",)

    @get("/export", media_type=ZIP, operation_class=ArchiveDownload,
         summary="A tenant's every record as one signed archive")
    async def export(
        self, request: Request[OperatorPrincipal, Any, Any], slug: FromPath[str], stint: StintDep
    ) -> File:
        def write(out: Path) -> Awaitable[object]:
            return operator_export(stint.uow, stint.clock, stint.tenant_archives,
                                   operator=request.user.operator, slug=slug, out=out,
                                   address=client_address(request))

        return await archive_file(slug, stint.clock.now().date().isoformat(), write)

    @post("/purge", status_code=200, summary="Purge an expired tenant whose retention period is over")
    async def purge(
        self, request: Request[OperatorPrincipal, Any, Any], slug: FromPath[str], data: JSONBody[PurgeIn],
        stint: StintDep,
    ) -> PurgedOut:
        deleted = await purge_tenant_now(
            stint.uow, stint.jobs, stint.clock, operator=request.user.operator, slug=slug,
            confirm=data.confirm, retention_days=stint.settings.retention_days,
            address=client_address(request))
        return PurgedOut(tenant=slug, deleted=deleted)

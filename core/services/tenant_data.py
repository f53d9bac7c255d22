"""A tenant's data, all of it, for its owners (issue #22): the archive behind "Export all
data" on the Your data page and ``GET /api/v1/export``, and the operator's purge.

The archive itself (every table's rows, a worklogs CSV, a signed manifest) is written by the
storage adapter that knows the database (:class:`TenantArchiver`); the use case decides
nothing about its contents, it records who took the data and from where.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from core.clock import Clock
from core.errors import NotFound
from core.tenancy import Operator, Tenant, User
from core.unit_of_work import UnitOfWorkFactory

from .audit import actor_of

__all__ = ["TenantArchiver", "export_tenant_data", "operator_export"]


class TenantArchiver(Protocol):
    async def write(self, slug: str, out: Path) -> dict[str, int]:
        """Write ``slug``'s signed archive to ``out``; the rows written per table."""
        ...


async def export_tenant_data(
    uow: UnitOfWorkFactory, clock: Clock, archiver: TenantArchiver, *, tenant: Tenant,
    user: User | Operator, out: Path, address: str | None = None,
) -> dict[str, int]:
    """Write the tenant's archive to ``out`` and audit it (an export is the most data one
    request can take: Administrators see who took it, when and from where)."""
    counts = await archiver.write(tenant.slug, out)
    async with uow(write=True) as work:
        await work.tenant(tenant.id).audit().record(
            actor_of(user), "tenant.exported", tenant.slug,
            {"rows": sum(counts.values()), "worklogs": counts.get("worklog", 0)}, clock.now(),
            address=address,
        )
        await work.commit()
    return counts


async def operator_export(
    uow: UnitOfWorkFactory, clock: Clock, archiver: TenantArchiver, *, operator: Operator, slug: str,
    out: Path, address: str | None = None,
) -> Tenant:
    """The operator console's export of any tenant (for example before a purge, or when a
    customer asks support for their data); audited in that tenant's trail."""
    async with uow() as work:
        tenant = await work.directory.tenant_by_slug(slug)
    if tenant is None:
        raise NotFound(f"no tenant {slug!r}")
    await export_tenant_data(uow, clock, archiver, tenant=tenant, user=operator, out=out, address=address)
    return tenant

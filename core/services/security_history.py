"""Reading the security history: a tenant's Administrators read their tenant's trail,
operators read every tenant's (SPEC §9's audit rows, issue #15's security history)."""

from __future__ import annotations

from core.audit import AuditQuery, AuditRecord, decode_cursor, encode_cursor
from core.errors import NotFound
from core.tenancy import Tenant
from core.unit_of_work import UnitOfWorkFactory

from .audit import actor_of

__all__ = ["AuditPage", "installation_audit", "tenant_audit"]

AuditPage = tuple[list[AuditRecord], str | None]
"""A page of rows, newest first, and the cursor of the next page (None: the last page)."""


def _page(rows: list[AuditRecord], limit: int) -> AuditPage:
    items = rows[:limit]
    return items, encode_cursor(items[-1]) if len(rows) > limit and items else None


async def tenant_audit(
    uow: UnitOfWorkFactory, *, tenant: Tenant, action: str = "", user_id: str = "",
    cursor: str = "", limit: int = 50,
) -> AuditPage:
    """The tenant's trail; ``user_id`` keeps what that user did and what was done to them."""
    after = decode_cursor(cursor)
    async with uow() as work:
        scope = work.tenant(tenant.id)
        actor = subject = ""
        if user_id:
            user = await scope.users().get(user_id)
            if user is None:
                raise NotFound("no such user in this tenant")
            actor, subject = actor_of(user), user.email
        rows = await scope.audit().page(
            AuditQuery(action=action, actor=actor, subject=subject, after=after, limit=limit + 1)
        )
    return _page(rows, limit)


async def installation_audit(
    uow: UnitOfWorkFactory, *, tenant_slug: str = "", action: str = "", actor_kind: str = "",
    cursor: str = "", limit: int = 100,
) -> tuple[AuditPage, dict[str, str]]:
    """Every tenant's trail and the installation's (operators), with each tenant's slug by id.

    ``tenant_slug`` "-" keeps the installation-wide rows (operator sign-ins, plans, files).
    """
    after = decode_cursor(cursor)
    async with uow() as work:
        tenant_id: str | None = ""
        if tenant_slug == "-":
            tenant_id = None
        elif tenant_slug:
            found = await work.directory.tenant_by_slug(tenant_slug.strip().lower())
            if found is None:
                raise NotFound(f"no tenant {tenant_slug!r}")
            tenant_id = found.id
        query = AuditQuery(
            action=action, actor_kind=actor_kind, tenant_id=tenant_id, after=after, limit=limit + 1
        )
        rows = await work.directory.audit_page(query)
        slugs: dict[str, str] = {}
        for row in rows:
            if row.tenant_id and row.tenant_id not in slugs:
                named = await work.directory.tenant_by_id(row.tenant_id)
                slugs[row.tenant_id] = named.slug if named else row.tenant_id
    return _page(rows, limit), slugs

"""Who to ask: the tenant's administrators, named on the pages that turn a user away (the
locked door, a role of None after sign-in) so that nobody is left at a dead end (issue #21)."""

from __future__ import annotations

from core.licensing.administrators import is_tenant_administrator
from core.tenancy import Tenant, User
from core.unit_of_work import UnitOfWorkFactory

__all__ = ["tenant_administrators"]

_PAGE = 500


async def tenant_administrators(uow: UnitOfWorkFactory, *, tenant: Tenant, at_most: int = 5) -> list[User]:
    """Up to ``at_most`` active collection admins with the Administrator role (those who can
    change a role under User Management), in the users' order."""
    found: list[User] = []
    after = ""
    async with uow() as work:
        default_role = (await work.directory.tenant_by_id(tenant.id) or tenant).default_role
        users = work.tenant(tenant.id).users()
        while len(found) < at_most:
            page = await users.list(after=after, limit=_PAGE)
            found += [u for u in page if u.active and is_tenant_administrator(u, default_role)]
            if len(page) < _PAGE:
                break
            after = page[-1].id
    return found[:at_most]

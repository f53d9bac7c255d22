"""Saved Times Explorer views, each user's own (issue #17): list, save, delete.

Another user's view is exactly as absent as one that never existed (404)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.clock import Clock
from core.errors import NotFound
from core.ids import new_id
from core.tenancy import Tenant, User
from core.tracking.saved_views import SavedView, ViewNameTaken, new_saved_view
from core.unit_of_work import UnitOfWorkFactory

__all__ = ["delete_view", "list_views", "save_view"]


async def list_views(uow: UnitOfWorkFactory, *, tenant: Tenant, user: User) -> list[SavedView]:
    async with uow() as work:
        return await work.tenant(tenant.id).saved_views().views(user.id)


async def save_view(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, user: User, name: str,
    filters: Mapping[str, str], columns: Sequence[str], group_by: Sequence[str],
) -> SavedView:
    """A new view of the user's; a name they have used already is 409 ``view_name_taken``."""
    view = new_saved_view(new_id(), user.id, name, filters, columns, group_by, clock.now())
    async with uow(write=True) as work:
        # The unique index decides, so two saves racing with one name cannot both land.
        if not await work.tenant(tenant.id).saved_views().add(view):
            raise ViewNameTaken(f"you have a view named {view.name!r} already", field="name")
        await work.commit()
    return view


async def delete_view(uow: UnitOfWorkFactory, *, tenant: Tenant, user: User, view_id: str) -> None:
    async with uow(write=True) as work:
        if not await work.tenant(tenant.id).saved_views().delete(user.id, view_id):
            raise NotFound("you have no such view")
        await work.commit()

"""Work items for tests that track time: worklogs and timers may only name items of the
tenant's mirror, so a test puts the ones it uses there first, through the repository (as
the sync job or a standalone create would)."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from core.work_items import StateCategory, WorkItem

__all__ = ["mirror_work_items"]


def mirror_work_items(client: TestClient[Any], slug: str, *ids: int | str, title: str | None = None) -> None:
    """Items ``ids`` (titled "Work item N" unless ``title``) in tenant ``slug``'s mirror; one
    there already is left as it is."""
    stint = client.app.state.stint

    async def put() -> None:
        now = stint.clock.now()
        async with stint.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug(slug)
            repo = work.tenant(tenant.id).work_items()
            there = await repo.many([int(value) for value in ids])
            items = [
                WorkItem(id=int(value), title=title or f"Work item {int(value)}", type="Task", state="New",
                         state_category=StateCategory.PROPOSED, changed_at=now)
                for value in ids if int(value) not in there
            ]
            await repo.upsert(items)
            await work.commit()

    client.blocking_portal.call(put)

"""An iteration's burndown (issue #19): the use case behind the API route and the report.

Everyone who reads the work items reads it (the mirror's numbers, no one's tracked time).
The history it draws from is written with the mirror rows (``WorkItemRepository``); the
arithmetic is :func:`core.work_items.burndown.burndown`.
"""

from __future__ import annotations

from datetime import UTC

from core.clock import Clock
from core.tenancy import Tenant
from core.unit_of_work import UnitOfWorkFactory
from core.work_items import IterationNotFound
from core.work_items.burndown import Burndown, burndown

__all__ = ["iteration_burndown"]


async def iteration_burndown(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, iteration_id: int
) -> Burndown:
    """``iteration_id``'s burndown as of now (history days are UTC days, so today is too)."""
    async with uow() as work:
        repo = work.tenant(tenant.id).work_items()
        iteration = await repo.iteration(iteration_id)
        if iteration is None:
            raise IterationNotFound(f"there is no iteration {iteration_id}")
        today = clock.now().astimezone(UTC).date()
        until = min(today, iteration.finish) if iteration.finish is not None else today
        history = await repo.history(iteration.id, until)
    return burndown(iteration, history, today)

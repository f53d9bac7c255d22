"""Work item automation (SPEC §8): Completed Work is the sum of the item's tracked hours,
Remaining Work is lowered once per track — through the DevOps connector, in the
background, retried until done, never applied twice. The tenant's settings
(:mod:`core.tracking.automation`: on/off, which fields, how Remaining Work changes) are
read at the start of each tenant's run, so a change applies from the next run on.

Worklog changes queue effects in an outbox in their own transaction
(:func:`core.services.tracking_common.queue_work_item_effects`);
:func:`run_work_item_outbox` applies them. Completed Work is *recomputed* from the
stored worklogs on every run, so it cannot drift whatever order changes and
retries come in. A Remaining Work effect is keyed by its worklog and marked done
once written; before each write the job records the revision it starts from and
the values it writes, so that after a crash between the write and the mark a
retry recognises its own revision and does not lower the item again.

With automation off (or no field written) a run drops the tenant's pending effects:
they are marked done with the reason and never applied, not even after it is turned on
again (see :mod:`core.tracking.automation` for why).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.clock import Clock
from core.tracking.automation import (
    PendingChange,
    WorkItemAutomation,
    completed_hours,
    lowered_remaining,
    planned_fields,
)
from core.tracking.ports import DevOpsConnector, OutboxEntry, StaleWorkItem, TrackingDirectory, WorkItemState
from core.unit_of_work import UnitOfWorkFactory

__all__ = ["AUTOMATION_OFF", "completed_hours", "lowered_remaining", "run_work_item_outbox"]

log = logging.getLogger("stint.work_items")

#: The reason kept on effects a run dropped because the tenant's automation writes nothing.
AUTOMATION_OFF = "dropped: work item automation is off"
#: Tries per item and run when someone else keeps changing the item (HTTP 412).
_STALE_RETRIES = 5


async def run_work_item_outbox(
    uow: UnitOfWorkFactory, clock: Clock, directory: TrackingDirectory,
    connector_for: Callable[[str], DevOpsConnector], *, limit: int = 100,
) -> int:
    """Apply pending work-item updates of every tenant; the number of items written.

    Idempotent: run it again (or on two workers at once) and nothing is applied twice.
    A failing item is left pending with its error and tried again on the next run.
    """
    written = 0
    for tenant_id in await directory.tenants_with_pending_work_items():
        async with uow() as work:
            repo = work.tenant(tenant_id).tracking()
            settings = await repo.work_item_automation()
            items = await repo.pending_work_items(limit)
        if not settings.active:
            await _drop_pending(uow, clock, tenant_id, items, limit)
            continue
        connector = connector_for(tenant_id)
        for item in items:
            try:
                written += await _apply(uow, clock, tenant_id, connector, item, settings)
            except Exception as exc:  # one bad item must not block the others
                log.warning("work item update failed; will retry", extra={"work_item": item})
                async with uow(write=True) as work:
                    repo = work.tenant(tenant_id).tracking()
                    effects = await repo.pending_effects(item)
                    await repo.fail_effects([e.id for e in effects], f"{type(exc).__name__}: {exc}")
                    await work.commit()
    return written


def _landed(effect: OutboxEntry, revision: WorkItemState | None) -> bool:
    """Whether ``revision`` (the one after the recorded attempt) is that attempt's write."""
    return (
        revision is not None
        and revision.completed_work == effect.attempt_completed
        and revision.remaining_work == effect.attempt_remaining
    )


async def _drop_pending(
    uow: UnitOfWorkFactory, clock: Clock, tenant_id: str, items: list[str], limit: int
) -> None:
    """Mark every pending effect of the tenant done, unapplied, with :data:`AUTOMATION_OFF`."""
    while items:
        async with uow(write=True) as work:
            repo = work.tenant(tenant_id).tracking()
            for item in items:
                ids = [e.id for e in await repo.pending_effects(item)]
                await repo.finish_effects(ids, clock.now())
                await repo.fail_effects(ids, AUTOMATION_OFF)
            items = await repo.pending_work_items(limit)
            await work.commit()


async def _apply(
    uow: UnitOfWorkFactory, clock: Clock, tenant_id: str, connector: DevOpsConnector, item: str,
    settings: WorkItemAutomation,
) -> int:
    for _ in range(_STALE_RETRIES):
        async with uow() as work:
            repo = work.tenant(tenant_id).tracking()
            effects = await repo.pending_effects(item)
            seconds = await repo.work_item_seconds(item)
        if not effects:
            return 0
        state = await connector.work_item(item)
        if state is None:
            await _finish(uow, clock, tenant_id, effects, error="the work item does not exist")
            return 0
        # A previous try may have written and crashed before marking its effects done.
        attempted = {e.attempt_rev for e in effects if e.attempt_rev is not None}
        landed: list[OutboxEntry] = []
        for rev in attempted:
            if state.rev > rev:
                revision = await connector.revision(item, rev + 1)
                landed += [e for e in effects if e.attempt_rev == rev and _landed(e, revision)]
        if landed:
            await _finish(uow, clock, tenant_id, landed)
            effects = [e for e in effects if e not in landed]
            if not effects:
                return 0
        planned = planned_fields(
            settings, tracked_s=seconds, current_remaining=state.remaining_work,
            changes=[PendingChange(e.remaining_delta_s, e.remaining_set) for e in effects],
        )
        # What the item will show after the write: the fields not written keep their values.
        completed = state.completed_work if planned.completed_work is None else planned.completed_work
        remaining = state.remaining_work if planned.remaining_work is None else planned.remaining_work
        if completed == state.completed_work and remaining == state.remaining_work:
            await _finish(uow, clock, tenant_id, effects)
            return 0
        async with uow(write=True) as work:
            await work.tenant(tenant_id).tracking().record_attempt(
                [e.id for e in effects], state.rev, completed, remaining
            )
            await work.commit()
        try:
            await connector.update_work_item(
                item, rev=state.rev,
                completed_work=planned.completed_work, remaining_work=planned.remaining_work,
            )
        except StaleWorkItem:
            continue  # someone changed the item meanwhile: read it again
        await _finish(uow, clock, tenant_id, effects)
        return 1
    raise StaleWorkItem(f"work item {item} kept changing; will retry")


async def _finish(
    uow: UnitOfWorkFactory, clock: Clock, tenant_id: str, effects: list[OutboxEntry],
    *, error: str | None = None,
) -> None:
    async with uow(write=True) as work:
        repo = work.tenant(tenant_id).tracking()
        ids = [e.id for e in effects]
        await repo.finish_effects(ids, clock.now())
        if error:
            await repo.fail_effects(ids, error)
        await work.commit()

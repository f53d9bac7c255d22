"""The tenant's work item automation settings (issue #16): read them, and let an
Administrator change them. The outbox job reads them at the start of every run
(:mod:`core.services.work_items`), so a change applies from its next run on."""

from __future__ import annotations

from core.clock import Clock
from core.tenancy import Tenant, User
from core.tracking.automation import WorkItemAutomation
from core.unit_of_work import UnitOfWorkFactory

__all__ = ["save_work_item_automation", "work_item_automation"]


async def work_item_automation(uow: UnitOfWorkFactory, *, tenant: Tenant) -> WorkItemAutomation:
    async with uow() as work:
        return await work.tenant(tenant.id).tracking().work_item_automation()


async def save_work_item_automation(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, settings: WorkItemAutomation,
) -> WorkItemAutomation:
    """Store the settings (the caller checked the actor may manage settings) and audit the change."""
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        now = clock.now()
        await scope.tracking().save_work_item_automation(settings, actor.id, now)
        detail = {
            "enabled": settings.enabled,
            "fields": settings.fields.value,
            "remaining": settings.remaining.value,
        }
        await scope.audit().record(
            f"user:{actor.id}", "work_items.automation_changed", tenant.slug, detail, now
        )
        await work.commit()
    return settings

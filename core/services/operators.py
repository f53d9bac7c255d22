"""Operator use cases (vendor staff): trials, the plans catalogue, manual payments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from core.clock import Clock, today_in
from core.errors import NotFound, ValidationFailed
from core.licensing import lifecycle
from core.licensing.catalogue import PlanCatalogue
from core.licensing.plan_dicts import plan_from_dict
from core.licensing.subscription import Subscription
from core.proration.invoice import Invoice
from core.tenancy import Operator, Tenant
from core.unit_of_work import UnitOfWorkFactory

from .audit import actor_of
from .payments import settle_invoice

__all__ = ["mark_invoice_paid", "replace_plans", "set_installed", "set_trial_end"]


async def _tenant(work: Any, slug: str) -> Tenant:
    tenant: Tenant | None = await work.directory.tenant_by_slug(slug)
    if tenant is None:
        raise NotFound(f"no tenant {slug!r}")
    return tenant


async def set_trial_end(
    uow: UnitOfWorkFactory, clock: Clock, *, operator: Operator, slug: str, ends_on: date,
    address: str | None = None,
) -> tuple[Tenant, Subscription]:
    """Extend a trial to ``ends_on``, or end it now when ``ends_on`` is today or earlier."""
    async with uow(write=True) as work:
        tenant = await _tenant(work, slug)
        today = today_in(clock, tenant.time_zone)
        scope = work.tenant(tenant.id)
        held = await scope.subscriptions().get(for_update=True)
        sub_id, before = held.id, held.subscription
        if ends_on <= today:
            after = lifecycle.end_trial(before, today)
        else:
            after = lifecycle.extend_trial(before, ends_on, today)
        await scope.subscriptions().save(sub_id, after, clock.now())
        await scope.audit().record(
            actor_of(operator),
            "trial.changed",
            slug,
            {"ends_on": ends_on.isoformat(), "status": after.status.value},
            clock.now(),
            address=address,
        )
        await work.commit()
    return tenant, after


async def replace_plans(
    uow: UnitOfWorkFactory, clock: Clock, *, operator: Operator, plans: Sequence[object],
    address: str | None = None,
) -> PlanCatalogue:
    """Add or replace plans in the catalogue; each is validated whole before any is saved.

    Plans are never deleted: existing subscriptions may still be on them.
    """
    parsed = []
    for index, data in enumerate(plans):
        try:
            parsed.append(plan_from_dict(data))
        except ValidationFailed as exc:
            raise ValidationFailed(
                f"plan {index}: {exc.detail}", field=f"[{index}].{exc.field or ''}"
            ) from None
    ids = [plan.id for plan in parsed]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("a plan id appears twice", field="id")
    async with uow(write=True) as work:
        for plan in parsed:
            await work.directory.catalogue.save(plan, clock.now())
        await work.directory.audit(
            None, actor_of(operator), "plans.changed", ",".join(ids)[:200], {"plans": ids}, clock.now(),
            address=address,
        )
        catalogue = await work.directory.catalogue.load()
        await work.commit()
    return catalogue


async def mark_invoice_paid(
    uow: UnitOfWorkFactory, clock: Clock, *, operator: Operator, slug: str, invoice_id: str,
    address: str | None = None,
) -> tuple[Invoice, Subscription]:
    """Manual invoicing: the money arrived. A past-due subscription is active again at once,
    and an expired paid one is reactivated."""
    now = clock.now()
    async with uow(write=True) as work:
        tenant = await _tenant(work, slug)
        scope = work.tenant(tenant.id)
        # The same effect as the payment provider's invoice.paid (core.services.payments).
        effect = await settle_invoice(scope, invoice_id, today=today_in(clock, tenant.time_zone), now=now)
        if effect is None:
            raise NotFound(f"no invoice {invoice_id!r} for {slug!r}")
        await scope.audit().record(
            actor_of(operator), "invoice.paid", invoice_id, {"manual": True}, now, address=address
        )
        await work.commit()
    return effect.invoice, effect.subscription


async def set_installed(
    uow: UnitOfWorkFactory, clock: Clock, *, operator: Operator | str, slug: str, installed: bool,
    address: str | None = None,
) -> Tenant:
    """Uninstall (kept, blocked as ``tenant_uninstalled``) or reinstall a tenant, unchanged.

    Nothing is deleted either way (SPEC §3): reinstalling brings back the same users,
    subscription, worklogs and settings.
    """
    async with uow(write=True) as work:
        tenant = await _tenant(work, slug)
        if installed == (not tenant.uninstalled):
            return tenant
        updated = replace(tenant, uninstalled_at=None if installed else clock.now())
        await work.directory.save_tenant(updated)
        await work.tenant(tenant.id).audit().record(
            actor_of(operator),
            "tenant.reinstalled" if installed else "tenant.uninstalled",
            slug,
            {},
            clock.now(),
            address=address,
        )
        await work.commit()
    return updated

"""``/admin/tenants/{slug}``: one tenant, as operators see it (its subscription, invoices and
audit trail) and change it: its trial, an invoice marked paid, its archive, its purge."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import File, Template

from core.audit import AuditQuery
from core.errors import ValidationFailed
from core.services.operators import mark_invoice_paid, set_trial_end
from core.services.retention import purge_tenant_now
from core.services.tenant_data import operator_export
from plugins.bootstrap import Stint
from web.api.tenant_data import archive_file
from web.pages.render import render
from web.security import client_address

from .context import _URL_ENCODED, _ctx, _operator, _stint

__all__ = ["TenantsController"]


class TrialForm(msgspec.Struct):
    ends_on: date


class PurgeForm(msgspec.Struct):
    confirm: Annotated[str, msgspec.Meta(max_length=200)] = ""


async def _tenant_detail(stint: Stint, slug: str) -> dict[str, Any]:
    async with stint.uow() as work:
        tenant = await work.directory.tenant_by_slug(slug)
        if tenant is None:
            raise ValidationFailed(f"no tenant {slug!r}", field="slug")
        scope = work.tenant(tenant.id)
        sub = (await scope.subscriptions().get()).subscription
        invoices = [listed.invoice for listed in await scope.invoices().list(after="", limit=50)]
        audit = await work.directory.audit_page(AuditQuery(tenant_id=tenant.id, limit=20))
    return {"tenant": tenant, "sub": sub, "invoices": invoices, "audit": audit}


class TenantsController(Controller):
    """A tenant's page and what operators do to it."""

    path = "/"
    include_in_schema = False

    @get("/tenants/{slug:str}")
    async def tenant(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        principal = await _operator(request)
        detail = await _tenant_detail(_stint(request), slug)
        return render(
            request, "admin/tenant.html", "admin/_tenant.html", _ctx(principal, "tenants", **detail)
        )

    @post("/tenants/{slug:str}/trial", status_code=200)
    async def trial(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: Annotated[TrialForm, _URL_ENCODED]
    ) -> Template:
        principal = await _operator(request)
        stint = _stint(request)
        _, sub = await set_trial_end(
            stint.uow, stint.clock, operator=principal.operator, slug=slug, ends_on=data.ends_on,
            address=client_address(request),
        )
        detail = await _tenant_detail(stint, slug)
        done = (
            f"Trial now {sub.status.value}"
            + (f", ends {sub.trial_ends_on}" if sub.trial_ends_on else "")
            + "."
        )
        return render(
            request,
            "admin/tenant.html",
            "admin/_tenant.html",
            _ctx(principal, "tenants", done=done, **detail),
        )

    @get("/tenants/{slug:str}/export")
    async def export(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> File:
        """The tenant's archive, as its Administrators download it (audited as this operator's)."""
        principal = await _operator(request)
        stint = _stint(request)

        def write(out: Path) -> Awaitable[object]:
            return operator_export(stint.uow, stint.clock, stint.tenant_archives, operator=principal.operator,
                                   slug=slug, out=out, address=client_address(request))

        return await archive_file(slug, stint.clock.now().date().isoformat(), write)

    @post("/tenants/{slug:str}/purge", status_code=200)
    async def purge(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: Annotated[PurgeForm, _URL_ENCODED]
    ) -> Template:
        principal = await _operator(request)
        stint = _stint(request)
        deleted = await purge_tenant_now(
            stint.uow, stint.jobs, stint.clock, operator=principal.operator, slug=slug, confirm=data.confirm,
            retention_days=stint.settings.retention_days, address=client_address(request),
        )
        detail = await _tenant_detail(stint, slug)
        done = f"{slug} purged: {sum(deleted.values())} rows deleted; its invoices and audit trail are kept."
        return render(request, "admin/tenant.html", "admin/_tenant.html",
                      _ctx(principal, "tenants", done=done, **detail))

    @post("/tenants/{slug:str}/invoices/{invoice_id:str}/paid", status_code=200)
    async def paid(
        self, request: Request[Any, Any, Any], slug: FromPath[str], invoice_id: FromPath[str]
    ) -> Template:
        principal = await _operator(request)
        stint = _stint(request)
        invoice, sub = await mark_invoice_paid(
            stint.uow, stint.clock, operator=principal.operator, slug=slug, invoice_id=invoice_id,
            address=client_address(request),
        )
        detail = await _tenant_detail(stint, slug)
        done = f"Invoice {invoice.id} marked paid; the subscription is {sub.status.value}."
        return render(
            request,
            "admin/tenant.html",
            "admin/_tenant.html",
            _ctx(principal, "tenants", done=done, **detail),
        )

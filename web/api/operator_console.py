"""Operator API: trials, the plans catalogue and manual payments (API.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody

from core.licensing.plan_dicts import plan_to_dict
from core.services.operators import mark_invoice_paid, replace_plans, set_installed, set_trial_end

from ..auth import OperatorPrincipal
from ..deps import StintDep
from ..schemas import Strict
from ..security import client_address
from .invoices import InvoiceOut, invoice_out

__all__ = ["OperatorInstallController", "OperatorPlansController", "OperatorTrialController"]


class TrialIn(Strict):
    ends_on: date


class TrialOut(msgspec.Struct):
    tenant: str
    status: str
    trial_ends_on: date | None


class PaidOut(msgspec.Struct):
    invoice: InvoiceOut
    status: str


class OperatorTrialController(Controller):
    path = "/tenants/{slug:str}"
    tags = ("operator",)

    @post("/trial", status_code=200, summary="Extend or end a trial")
    async def trial(
        self,
        request: Request[OperatorPrincipal, Any, Any],
        slug: FromPath[str],
        data: JSONBody[TrialIn],
        stint: StintDep,
    ) -> TrialOut:
        tenant, sub = await set_trial_end(
            stint.uow, stint.clock, operator=request.user.operator, slug=slug, ends_on=data.ends_on,
            address=client_address(request),
        )
        return TrialOut(tenant=tenant.slug, status=sub.status.value, trial_ends_on=sub.trial_ends_on)

    @post("/invoices/{invoice_id:str}/paid", status_code=200, summary="Mark an invoice paid")
    async def paid(
        self,
        request: Request[OperatorPrincipal, Any, Any],
        slug: FromPath[str],
        invoice_id: FromPath[str],
        stint: StintDep,
    ) -> PaidOut:
        invoice, sub = await mark_invoice_paid(
            stint.uow, stint.clock, operator=request.user.operator, slug=slug, invoice_id=invoice_id,
            address=client_address(request),
        )
        return PaidOut(invoice=invoice_out(invoice), status=sub.status.value)


class InstalledOut(msgspec.Struct):
    tenant: str
    installed: bool


class OperatorInstallController(Controller):
    path = "/tenants/{slug:str}"
    tags = ("operator",)

    @post("/uninstall", status_code=200, summary="Uninstall a tenant (its data is kept)")
    async def uninstall(
        self, request: Request[OperatorPrincipal, Any, Any], slug: FromPath[str], stint: StintDep
    ) -> InstalledOut:
        tenant = await set_installed(
            stint.uow, stint.clock, operator=request.user.operator, slug=slug, installed=False,
            address=client_address(request),
        )
        return InstalledOut(tenant=tenant.slug, installed=not tenant.uninstalled)

    @post("/reinstall", status_code=200, summary="Reinstall a tenant, unchanged")
    async def reinstall(
        self, request: Request[OperatorPrincipal, Any, Any], slug: FromPath[str], stint: StintDep
    ) -> InstalledOut:
        tenant = await set_installed(
            stint.uow, stint.clock, operator=request.user.operator, slug=slug, installed=True,
            address=client_address(request),
        )
        return InstalledOut(tenant=tenant.slug, installed=not tenant.uninstalled)


class OperatorPlansController(Controller):
    path = "/plans"
    tags = ("operator",)

    @get("/", summary="The plans catalogue")
    async def list_plans(self, stint: StintDep) -> list[dict[str, Any]]:
        async with stint.uow() as work:
            catalogue = await work.directory.catalogue.load()
        return [plan_to_dict(plan) for plan in catalogue]

    @put("/", summary="Add or replace plans")
    async def put_plans(
        self,
        request: Request[OperatorPrincipal, Any, Any],
        data: JSONBody[list[dict[str, Any]]],
        stint: StintDep,
    ) -> list[dict[str, Any]]:
        catalogue = await replace_plans(
            stint.uow, stint.clock, operator=request.user.operator, plans=data,
            address=client_address(request),
        )
        return [plan_to_dict(plan) for plan in catalogue]

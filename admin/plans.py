"""``/admin/plans``: the plans catalogue, each plan shown and edited as the JSON it is stored
as (``core.services.operators.replace_plans``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.response import Template

from core.errors import ValidationFailed
from core.licensing.plan_dicts import plan_to_dict
from core.services.operators import replace_plans
from web.auth import OperatorPrincipal
from web.pages.render import render
from web.security import client_address

from .context import _URL_ENCODED, _ctx, _operator, _stint

__all__ = ["PlansController"]


class PlanForm(msgspec.Struct):
    """The plan as the catalogue stores it, edited as JSON (every field, exactly typed)."""

    plan: Annotated[str, msgspec.Meta(max_length=4000)]


class PlansController(Controller):
    """The plans catalogue."""

    path = "/"
    include_in_schema = False

    async def _plans(
        self, request: Request[Any, Any, Any], principal: OperatorPrincipal, **extra: Any
    ) -> Template:
        async with _stint(request).uow() as work:
            catalogue = await work.directory.catalogue.load()
        plans = [(plan, json.dumps(plan_to_dict(plan), indent=2)) for plan in catalogue]
        return render(
            request, "admin/plans.html", "admin/_plans.html", _ctx(principal, "plans", plans=plans, **extra)
        )

    @get("/plans")
    async def plans(self, request: Request[Any, Any, Any]) -> Template:
        return await self._plans(request, await _operator(request))

    @post("/plans", status_code=200)
    async def save_plan(
        self, request: Request[Any, Any, Any], data: Annotated[PlanForm, _URL_ENCODED]
    ) -> Template:
        principal = await _operator(request)
        stint = _stint(request)
        try:
            parsed = json.loads(data.plan)
        except ValueError as exc:
            raise ValidationFailed(f"the plan is not valid JSON: {exc}", field="plan") from None
        catalogue = await replace_plans(
            stint.uow, stint.clock, operator=principal.operator, plans=[parsed],
            address=client_address(request),
        )
        saved = parsed.get("id") if isinstance(parsed, dict) else "?"
        return await self._plans(
            request, principal, done=f"Saved plan {saved}; {len(list(catalogue))} plans."
        )

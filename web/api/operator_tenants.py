"""Operator API: the tenants of this Stint, with their subscription state."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import QueryParameter

from ..deps import StintDep

__all__ = ["OperatorTenantsController"]


class OperatorTenantOut(msgspec.Struct):
    slug: str
    name: str
    deployment: str
    created_at: datetime
    uninstalled: bool
    plan: str
    status: str
    seats: int | None
    trial_ends_on: date | None
    period_end: date | None


class TenantPage(msgspec.Struct):
    items: list[OperatorTenantOut]
    next_cursor: str | None


class OperatorTenantsController(Controller):
    path = "/tenants"
    tags = ("operator",)

    @get("/", summary="List tenants")
    async def list_tenants(
        self,
        stint: StintDep,
        search: Annotated[str, QueryParameter(name="q", max_length=64)] = "",
        cursor: Annotated[str, QueryParameter(max_length=64)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> TenantPage:
        items = []
        async with stint.uow() as work:
            tenants = await work.directory.tenants(search=search, after=cursor, limit=limit + 1)
            for tenant in tenants[:limit]:
                sub = (await work.tenant(tenant.id).subscriptions().get()).subscription
                items.append(
                    OperatorTenantOut(
                        slug=tenant.slug,
                        name=tenant.name,
                        deployment=tenant.deployment.value,
                        created_at=tenant.created_at,
                        uninstalled=tenant.uninstalled,
                        plan=sub.plan_id,
                        status=sub.status.value,
                        seats=sub.seats,
                        trial_ends_on=sub.trial_ends_on,
                        period_end=sub.period.end if sub.period else None,
                    )
                )
        more = len(tenants) > limit
        return TenantPage(items=items, next_cursor=items[-1].slug if more and items else None)

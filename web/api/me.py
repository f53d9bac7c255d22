"""``/api/v1/me``: who the caller is in this tenant."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import State

from core.identity.scopes import Scope
from core.licensing.access import Action

from ..access import requires
from ..auth import TenantPrincipal
from ..deps import StintDep

__all__ = ["MeController"]


class TenantRef(msgspec.Struct):
    slug: str
    name: str
    deployment: str


class MeOut(msgspec.Struct):
    id: str
    email: str
    name: str
    role: str
    licensed: bool
    collection_admin: bool
    approval_manager: bool
    tenant: TenantRef


class MeController(Controller):
    path = "/me"
    tags = ("me",)

    @get("/", summary="The calling user", guards=[requires(Action.USE_API, Scope.TRACKING)])
    async def me(self, request: Request[TenantPrincipal, object, State], stint: StintDep) -> MeOut:
        principal = request.user
        tenant, user = principal.tenant, principal.user
        async with stint.uow() as work:
            licensed = await work.tenant(tenant.id).seats().is_licensed(user.person_id)
        return MeOut(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.effective_role(tenant.default_role),
            licensed=licensed,
            collection_admin=user.collection_admin,
            approval_manager=user.approval_manager,
            tenant=TenantRef(slug=tenant.slug, name=tenant.name, deployment=tenant.deployment.value),
        )

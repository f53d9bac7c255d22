"""Apps (issue #20; docs/apps.md): what can act for the caller, and the tenant's registered apps.

``/api/v1/me/apps`` lists the OAuth grants and personal access tokens that can act for the
caller (name, scopes, created, last used, from where); one can be revoked, or every app at
once ("Unpair all apps": each grant's family is revoked, which moves the user's cache
generation, so every process refuses the apps' access tokens on their next request).

``/api/v1/apps`` is the tenant admins': register a third-party app for the tenant (its
secret, for a confidential app, is in the answer once) and disable one for everybody.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeVar

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import JSONBody, PathParameter, QueryParameter

from core.identity.oauth import ClientKind, OAuthClient
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services import oauth as apps
from core.services.oauth_grants import AppEntry, list_apps, revoke_all_apps, revoke_app

from ..access import requires
from ..auth import TenantPrincipal
from ..deps import StintDep
from ..idempotency import IDEMPOTENCY_OPT
from ..schemas import Strict
from ..security import client_address
from .tokens import scope_list

__all__ = ["MyAppsController", "TenantAppsController"]


class MyAppOut(msgspec.Struct):
    id: str
    #: "app" (an OAuth grant) or "token" (a personal access token).
    kind: str
    name: str
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None
    #: The address the app was last issued a token from (None for personal tokens).
    address: str | None
    client_id: str | None


class MyAppsOut(msgspec.Struct):
    items: list[MyAppOut]
    next_cursor: str | None = None


class UnpairedOut(msgspec.Struct):
    revoked: int


class NewAppIn(Strict):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    kind: ClientKind
    redirect_uris: Annotated[list[Annotated[str, msgspec.Meta(max_length=500)]],
                             msgspec.Meta(max_length=10)]
    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1, max_length=len(Scope))]


class AppOut(msgspec.Struct):
    client_id: str
    name: str
    kind: ClientKind
    redirect_uris: list[str]
    scopes: list[Scope]
    disabled: bool
    created_at: datetime


class NewAppOut(AppOut):
    #: A confidential app's secret, shown here once; null for a public app.
    client_secret: str | None = None


class AppsOut(msgspec.Struct):
    items: list[AppOut]
    next_cursor: str | None = None


class AppPatchIn(Strict):
    disabled: bool


def _app(client: OAuthClient) -> AppOut:
    return AppOut(client_id=client.id, name=client.name, kind=client.kind,
                  redirect_uris=list(client.redirect_uris), scopes=scope_list(client.allowed_scopes),
                  disabled=client.disabled, created_at=client.created_at)


_T = TypeVar("_T", OAuthClient, AppEntry)


def _page(items: list[_T], cursor: str, limit: int) -> tuple[list[_T], str | None]:
    """One page of a short list held whole (a user's apps, a tenant's apps), after the id ``cursor``."""
    after = [item for item in items if item.id > cursor]
    page = after[:limit]
    return page, page[-1].id if len(after) > limit else None


class MyAppsController(Controller):
    path = "/me/apps"
    tags = ("apps",)

    @get("/", guards=[requires(Action.USE_API, Scope.ADMIN)],
         summary="The apps and tokens that can act for me")
    async def list_mine(
        self, request: Request[TenantPrincipal, object, State], stint: StintDep,
        cursor: Annotated[str, QueryParameter(max_length=64)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> MyAppsOut:
        p = request.user
        found = await list_apps(stint.uow, tenant_id=p.tenant.id, user_id=p.user.id)
        page, next_cursor = _page(sorted(found, key=lambda e: e.id), cursor, limit)
        return MyAppsOut(items=[
            MyAppOut(id=e.id, kind=e.kind, name=e.name, scopes=scope_list(e.scopes), created_at=e.created_at,
                     last_used_at=e.last_used_at, address=e.address, client_id=e.client_id)
            for e in page
        ], next_cursor=next_cursor)

    @delete("/{app_id:str}", status_code=204, guards=[requires(Action.USE_API, Scope.ADMIN)],
            summary="Revoke an app or a personal access token")
    async def revoke(
        self, app_id: Annotated[str, PathParameter(max_length=64)],
        request: Request[TenantPrincipal, object, State], stint: StintDep,
    ) -> None:
        p = request.user
        await revoke_app(stint.uow, stint.clock, tenant_id=p.tenant.id, user_id=p.user.id, app_id=app_id,
                         address=client_address(request))

    @post("/revoke-all", status_code=200, guards=[requires(Action.USE_API, Scope.ADMIN)],
          summary="Unpair all apps")
    async def revoke_all(
        self, request: Request[TenantPrincipal, object, State], stint: StintDep
    ) -> UnpairedOut:
        p = request.user
        count = await revoke_all_apps(stint.uow, stint.clock, tenant_id=p.tenant.id, user_id=p.user.id,
                                      address=client_address(request))
        return UnpairedOut(revoked=count)


class TenantAppsController(Controller):
    path = "/apps"
    tags = ("apps",)

    @get("/", guards=[requires(Action.MANAGE_SETTINGS, Scope.ADMIN)], summary="The tenant's registered apps")
    async def list_apps(
        self, request: Request[TenantPrincipal, object, State], stint: StintDep,
        cursor: Annotated[str, QueryParameter(max_length=64)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> AppsOut:
        found = await apps.tenant_clients(stint.uow, request.user.tenant.id)
        page, next_cursor = _page(sorted(found, key=lambda c: c.id), cursor, limit)
        return AppsOut(items=[_app(c) for c in page], next_cursor=next_cursor)

    # The answer shows a confidential app's secret once; it is never kept for a replay.
    @post("/", status_code=201, guards=[requires(Action.MANAGE_SETTINGS, Scope.ADMIN)],
          summary="Register a third-party app", opt={IDEMPOTENCY_OPT: False})
    async def register(
        self, data: JSONBody[NewAppIn], request: Request[TenantPrincipal, object, State], stint: StintDep
    ) -> NewAppOut:
        p = request.user
        client, secret = await apps.register_client(
            stint.uow, stint.clock, tenant_id=p.tenant.id, registered_by=f"user:{p.user.id}", name=data.name,
            kind=data.kind, redirect_uris=data.redirect_uris, scopes=frozenset(data.scopes),
            address=client_address(request),
        )
        return NewAppOut(**msgspec.structs.asdict(_app(client)), client_secret=secret)

    @patch("/{client_id:str}", guards=[requires(Action.MANAGE_SETTINGS, Scope.ADMIN)],
           summary="Disable or enable an app for everybody")
    async def set_disabled(
        self, client_id: Annotated[str, PathParameter(max_length=64)], data: JSONBody[AppPatchIn],
        request: Request[TenantPrincipal, object, State], stint: StintDep,
    ) -> AppOut:
        p = request.user
        found = await apps.set_client_disabled(
            stint.uow, stint.clock, tenant_id=p.tenant.id, actor=f"user:{p.user.id}", client_id=client_id,
            disabled=data.disabled, address=client_address(request),
        )
        return _app(found)

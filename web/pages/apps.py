"""``/settings/apps``: the apps and tokens that can act for the user (issue #20; docs/apps.md).

Every signed-in user sees their OAuth app grants and personal access tokens (name, scopes,
created, last used, from where), can revoke one, or "Unpair all apps" (every app grant ends on
its next request, in every process). Administrators also see the tenant's registered apps,
register one (a confidential app's secret is shown once) and disable or enable one for
everybody. The use cases are the API's (``core.services.oauth``, ``oauth_grants``).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter
from litestar.response import Template

from core.errors import AccessDenied, ValidationFailed
from core.identity.oauth import ClientKind
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services import oauth as apps
from core.services.oauth_grants import list_apps, revoke_all_apps, revoke_app
from plugins.i18n import gettext

from ..security import client_address
from .oauth import SCOPE_WORDS
from .render import Page, open_page, render, stint_of

__all__ = ["AppsPageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
_FULL, _PARTIAL = "settings/apps.html", "settings/_apps.html"


class NewAppForm(msgspec.Struct, forbid_unknown_fields=False):
    name: Annotated[str, msgspec.Meta(max_length=100)] = ""
    kind: Annotated[str, msgspec.Meta(max_length=20)] = "public"
    redirect_uris: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    scopes: list[str] | str = msgspec.field(default_factory=list)


class DisabledForm(msgspec.Struct, forbid_unknown_fields=False):
    disabled: Annotated[str, msgspec.Meta(max_length=5)] = "on"


def _is_admin(page: Page) -> bool:
    p = page.principal
    return p.user.effective_role(p.tenant.default_role) == "administrator"


async def _context(page: Page, request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    p = page.principal
    admin = _is_admin(page)
    return page.context(
        active="apps",
        entries=await list_apps(stint.uow, tenant_id=p.tenant.id, user_id=p.user.id),
        admin=admin,
        registered=await apps.tenant_clients(stint.uow, p.tenant.id) if admin else [],
        all_scopes=[(s.value, SCOPE_WORDS[s]) for s in Scope],
        **extra,
    )


def _refuse_token_callers(page: Page) -> None:
    # Managing what acts for an account is the account holder's, signed in: not a token's.
    if page.principal.personal_token_id is not None:
        raise AccessDenied("not_permitted", "Sign in to manage your apps; a token cannot revoke others.")


class AppsPageController(Controller):
    path = "/settings/apps"
    include_in_schema = False

    @get("/", name="apps")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, None)
        return render(request, _FULL, _PARTIAL, await _context(page, request))

    @post("/{app_id:str}/revoke", status_code=200)
    async def revoke(self, request: Request[Any, Any, Any],
                     app_id: Annotated[str, PathParameter(max_length=64)]) -> Template:
        page = await open_page(request, None)
        _refuse_token_callers(page)
        stint = stint_of(request)
        p = page.principal
        await revoke_app(stint.uow, stint.clock, tenant_id=p.tenant.id, user_id=p.user.id, app_id=app_id,
                         address=client_address(request))
        return render(request, _FULL, _PARTIAL, await _context(page, request, done=gettext("Revoked.")))

    @post("/unpair", status_code=200)
    async def unpair(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, None)
        _refuse_token_callers(page)
        stint = stint_of(request)
        p = page.principal
        count = await revoke_all_apps(stint.uow, stint.clock, tenant_id=p.tenant.id, user_id=p.user.id,
                                      address=client_address(request))
        done = gettext("Unpaired %(count)s app(s): each must be authorised again.", count=count)
        return render(request, _FULL, _PARTIAL, await _context(page, request, done=done))

    @post("/registered", status_code=200)
    async def register(self, request: Request[Any, Any, Any],
                       data: Annotated[NewAppForm, _URL_ENCODED]) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        _refuse_token_callers(page)
        stint = stint_of(request)
        p = page.principal
        wanted = [data.scopes] if isinstance(data.scopes, str) else data.scopes
        try:
            kind = ClientKind(data.kind)
            scopes = frozenset(Scope(s) for s in wanted if s in {x.value for x in Scope})
            client, secret = await apps.register_client(
                stint.uow, stint.clock, tenant_id=p.tenant.id, registered_by=f"user:{p.user.id}",
                name=data.name, kind=kind, redirect_uris=data.redirect_uris.split(), scopes=scopes,
                address=client_address(request),
            )
        except (ValueError, ValidationFailed) as exc:
            problem = exc.detail if isinstance(exc, ValidationFailed) else "Choose public or confidential."
            return render(request, _FULL, _PARTIAL, await _context(page, request, problem=problem),
                          status_code=422)
        done = gettext("Registered %(name)s.", name=client.name)
        context = await _context(page, request, made=client, secret=secret, done=done)
        return render(request, _FULL, _PARTIAL, context, headers={"Cache-Control": "no-store"})

    @post("/registered/{client_id:str}/disabled", status_code=200)
    async def set_disabled(self, request: Request[Any, Any, Any],
                           client_id: Annotated[str, PathParameter(max_length=64)],
                           data: Annotated[DisabledForm, _URL_ENCODED]) -> Template:
        page = await open_page(request, Action.MANAGE_SETTINGS)
        _refuse_token_callers(page)
        stint = stint_of(request)
        p = page.principal
        off = data.disabled == "on"
        found = await apps.set_client_disabled(stint.uow, stint.clock, tenant_id=p.tenant.id,
                                               actor=f"user:{p.user.id}", client_id=client_id, disabled=off,
                                               address=client_address(request))
        done = (gettext("%(name)s is disabled for everybody.", name=found.name) if off
                else gettext("%(name)s is enabled again.", name=found.name))
        return render(request, _FULL, _PARTIAL, await _context(page, request, done=done))

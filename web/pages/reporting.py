"""``/settings/reporting``: connecting Excel and Power BI to the OData reporting feed (issue #18).

Every user with a role sees it: Product, Budget and Administrators get everyone's time from
the feed, Team their own (the feed applies the same access decision as everything else).
The page shows the feed's URL, makes a read-only personal access token for it (scope
``reporting:read`` only, shown once with a copy button), lists the user's reporting tokens
with a revoke button each, and walks through the steps in Excel and Power BI. The use cases
are the API's (``core.services.tokens``).

The feed URL is built from ``STINT_BASE_URL``, the public address of this Stint: behind a
proxy the request's own host may be an internal one, and only the operator knows the name
users reach Stint by (``web/proxies.py`` resolves the client and scheme, never the host).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter
from litestar.response import Template

from core.errors import AccessDenied
from core.identity.ports import PersonalTokenRecord
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.licensing.roles import Permission, Role, role_allows
from core.services.tokens import create_personal_token, list_personal_tokens, revoke_personal_token

from ..security import client_address
from .render import Page, open_page, render, stint_of

__all__ = ["FEED_PATH", "REPORTING_TOKEN_NAME", "ReportingPageController", "feed_url"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
_FULL, _PARTIAL = "settings/reporting.html", "settings/_reporting.html"
#: Where the OData service root is served (the reporting feed's router).
FEED_PATH = "/api/odata/v1/"
REPORTING_TOKEN_NAME = "Reporting (Excel/Power BI)"
_READ_ONLY = frozenset({Scope.REPORTING_READ})
#: The lifetimes offered; a personal access token lives at most a year.
_EXPIRY_DAYS = (30, 90, 180, 365)
#: How many of the user's tokens are read to find the reporting ones (more is not a person).
_MOST_TOKENS = 500


class NewTokenForm(msgspec.Struct):
    expires_in_days: Literal["30", "90", "180", "365"] = "90"


def feed_url(base_url: str) -> str:
    return base_url.rstrip("/") + FEED_PATH


async def _reporting_tokens(page: Page, request: Request[Any, Any, Any]) -> list[PersonalTokenRecord]:
    """The user's live tokens that can only read reports (the ones this page makes)."""
    stint = stint_of(request)
    principal = page.principal
    found: list[PersonalTokenRecord] = []
    after = ""
    while len(found) < _MOST_TOKENS:
        batch = await list_personal_tokens(stint.uow, tenant_id=principal.tenant.id,
                                           user_id=principal.user.id, after=after, limit=100)
        found.extend(t for t in batch if t.scopes == _READ_ONLY)
        if len(batch) < 100:
            break
        after = batch[-1].id
    return found


async def _context(page: Page, request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    principal = page.principal
    role = Role(principal.user.effective_role(principal.tenant.default_role))
    return page.context(
        active="reporting",
        feed_url=feed_url(stint_of(request).settings.base_url),
        everyone=role_allows(role, Permission.VIEW_ALL_WORKLOGS),
        tokens=await _reporting_tokens(page, request),
        expiry_days=_EXPIRY_DAYS,
        token_name=REPORTING_TOKEN_NAME,
        **extra,
    )


def _refuse_token_callers(page: Page) -> None:
    # A personal access token cannot make another (web/api/tokens.py), on a page neither.
    if page.principal.personal_token_id is not None:
        raise AccessDenied("not_permitted",
                           "Sign in to manage reporting tokens; a token cannot make or revoke another.")


class ReportingPageController(Controller):
    path = "/settings/reporting"
    include_in_schema = False

    @get("/", name="reporting")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.USE_API)
        return render(request, _FULL, _PARTIAL, await _context(page, request))

    @post("/tokens", status_code=200)
    async def create(
        self, request: Request[Any, Any, Any], data: Annotated[NewTokenForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, Action.USE_API)
        _refuse_token_callers(page)
        stint = stint_of(request)
        principal = page.principal
        record, secret = await create_personal_token(
            stint.uow, stint.clock, tenant_id=principal.tenant.id, user_id=principal.user.id,
            name=REPORTING_TOKEN_NAME, expires_in_days=int(data.expires_in_days),
            address=client_address(request), scopes=_READ_ONLY,
        )
        # The secret is in this answer only; it is never stored or shown again.
        context = await _context(page, request, secret=secret, made=record)
        return render(request, _FULL, _PARTIAL, context, headers={"Cache-Control": "no-store"})

    @post("/tokens/{token_id:str}/revoke", status_code=200)
    async def revoke(
        self, request: Request[Any, Any, Any], token_id: Annotated[str, PathParameter(max_length=64)]
    ) -> Template:
        page = await open_page(request, Action.USE_API)
        _refuse_token_callers(page)
        stint = stint_of(request)
        await revoke_personal_token(
            stint.uow, stint.clock, tenant_id=page.principal.tenant.id, user_id=page.principal.user.id,
            token_id=token_id, address=client_address(request),
        )
        return render(request, _FULL, _PARTIAL, await _context(page, request, revoked=True))

"""``/`` sign in, ``/signout``; the same credentials and limits as ``POST /api/v1/auth/token``."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template

from core.errors import InvalidCredentials
from core.services.administrators import tenant_administrators
from core.services.identity import authenticate_user
from core.services.second_factor import CodeNeeded
from core.services.tokens import revoke_refresh_family

from ..security import account_key, client_address, limit_per_client, refuse_if_limited
from .render import local_path, open_page, render, stint_of
from .session import REFRESH_COOKIE, page_principal, sign_in_cookies, sign_out_cookies

__all__ = ["SignInController"]


class SignInForm(msgspec.Struct):
    tenant: Annotated[str, msgspec.Meta(max_length=64)] = ""
    email: Annotated[str, msgspec.Meta(max_length=320)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    #: The authenticator app's code, or a recovery code: the second step, for accounts with one.
    code: Annotated[str, msgspec.Meta(max_length=64)] = ""
    next: Annotated[str, msgspec.Meta(max_length=2000)] = ""


Form = Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


class SignInController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", name="signin")
    async def home(
        self, request: Request[Any, Any, Any], next: Annotated[str, QueryParameter(max_length=2000)] = ""
    ) -> Response[Any] | Template:
        principal = await page_principal(request)
        if principal is None:
            return Template("signin.html", context={"next": next, "nav": {}, "tenant_slug": ""})
        page = await open_page(request, None)
        if page.nav["time"]:
            return Redirect("/time", status_code=303)
        ask = tuple(await tenant_administrators(stint_of(request).uow, tenant=page.principal.tenant))
        return render(request, "home.html", None, page.context(ask=ask))

    @post("/signin", status_code=303, guards=[limit_per_client])
    async def sign_in(self, request: Request[Any, Any, Any], data: Form) -> Response[Any] | Template:
        stint = stint_of(request)
        account = account_key(data.tenant, data.email)
        limit = stint.settings.rate_limit_login
        refuse_if_limited(await stint.limiter.peek(account, limit), "failed sign-ins for this account")
        try:
            tenant, user = await authenticate_user(
                stint.uow,
                stint.hasher,
                stint.clock,
                tenant_slug=data.tenant,
                email=data.email,
                password=data.password,
                address=client_address(request),
                codes=stint.codes,
                code=data.code,
            )
        except InvalidCredentials as exc:
            needed = isinstance(exc, CodeNeeded)
            if not needed:  # the password was right: not a failed attempt
                await stint.limiter.hit(account, limit)
            return Template(
                "signin.html",
                status_code=401,
                context={
                    "error": exc.detail,
                    "next": data.next,
                    "tenant_slug": data.tenant,
                    "email": data.email,
                    "nav": {},
                    # Once a code was asked for, the form keeps asking (a wrong code too).
                    "code_needed": needed or bool(data.code),
                },
            )
        cookies = await sign_in_cookies(stint, tenant.id, user.id)
        # Without a next page, "/" decides where this user lands: the Time tab, or (role None in
        # the cloud, where that tab does not exist) a page saying why (issue #21).
        return Redirect(local_path(data.next or "/"), status_code=303, cookies=cookies)

    @post("/signout", status_code=303)
    async def sign_out(self, request: Request[Any, Any, Any]) -> Response[Any]:
        stint = stint_of(request)
        refresh = request.cookies.get(REFRESH_COOKIE)
        if refresh:
            # Ends the sign-in everywhere its tokens went, not just in this browser.
            await revoke_refresh_family(stint.uow, stint.clock, refresh, address=client_address(request))
        headers = {"HX-Redirect": "/"} if request.headers.get("hx-request") == "true" else None
        return Redirect("/", status_code=303, cookies=sign_out_cookies(stint), headers=headers)

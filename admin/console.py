"""``/admin``: the operator console's front door. Signing in (with a second factor when
the operator has one) and out, enrolling the second factor, and the home page: the sign-in
form, or the tenants the operator searched for.

The console's other pages are controllers of their own, each over its use cases: a tenant
(``tenants``), the plans catalogue (``plans``), activation files (``activation``), and what
the installation recorded (``records``); ``console_router`` (the package) mounts them all."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from core.errors import InvalidCredentials
from core.services.identity import authenticate_operator
from core.services.second_factor import (
    CodeNeeded,
    Holder,
    InvalidCode,
    confirm_enrolment,
    start_enrolment,
)
from plugins.bootstrap import Stint
from web.auth import OperatorPrincipal
from web.pages.render import is_htmx, render
from web.second_factor import counting_wrong_codes, operator_may_proceed
from web.security import account_key, client_address, limit_per_client, refuse_if_limited

from .context import _URL_ENCODED, _ctx, _enrolling_operator, _stint
from .session import operator_cookie, operator_principal, signed_out_cookie

__all__ = ["ConsoleController"]


Search = Annotated[str, QueryParameter(name="q", max_length=64)]


class SignInForm(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(max_length=320)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    code: Annotated[str, msgspec.Meta(max_length=64)] = ""


class CodeForm(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=64)] = ""


def _sf_ctx(stint: Stint, principal: OperatorPrincipal, **extra: Any) -> dict[str, Any]:
    return _ctx(principal, "second-factor", required=stint.settings.operator_2fa_required, **extra)


async def _tenant_rows(stint: Stint, search: str) -> list[dict[str, Any]]:
    rows = []
    async with stint.uow() as work:
        for tenant in await work.directory.tenants(search=search.strip().lower(), limit=100):
            sub = (await work.tenant(tenant.id).subscriptions().get()).subscription
            rows.append({"tenant": tenant, "sub": sub})
    return rows


class ConsoleController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", name="console")
    async def home(self, request: Request[Any, Any, Any], q: Search = "") -> Response[Any] | Template:
        principal = await operator_principal(request)
        if principal is None:
            return Template("admin/signin.html", context={"nav": {}})
        if not operator_may_proceed(_stint(request), principal.operator):
            return Redirect("/admin/second-factor", status_code=303)
        rows = await _tenant_rows(_stint(request), q)
        return render(
            request, "admin/tenants.html", "admin/_tenants.html", _ctx(principal, "tenants", rows=rows, q=q)
        )

    @post("/signin", status_code=303, guards=[limit_per_client])
    async def sign_in(
        self, request: Request[Any, Any, Any], data: Annotated[SignInForm, _URL_ENCODED]
    ) -> Response[Any] | Template:
        stint = _stint(request)
        account = account_key("operator", data.email)
        limit = stint.settings.rate_limit_login
        refuse_if_limited(await stint.limiter.peek(account, limit), "failed sign-ins for this account")
        try:
            operator = await authenticate_operator(
                stint.uow, stint.hasher, email=data.email, password=data.password,
                clock=stint.clock, address=client_address(request), codes=stint.codes, code=data.code,
            )
        except InvalidCredentials as exc:
            needed = isinstance(exc, CodeNeeded)
            if not needed:  # the password was right: not a failed attempt
                await stint.limiter.hit(account, limit)
            return Template(
                "admin/signin.html",
                status_code=401,
                context={"error": exc.detail, "email": data.email, "nav": {}, "code_needed": needed},
            )
        return Redirect("/admin", status_code=303, cookies=[operator_cookie(stint, operator.id)])

    @get("/second-factor")
    async def second_factor(self, request: Request[Any, Any, Any]) -> Template:
        """Set up the second factor: required before anything else when the setting says so."""
        principal = await _enrolling_operator(request)
        stint = _stint(request)
        return render(
            request, "admin/second_factor.html", None,
            _sf_ctx(stint, principal),
        )

    @post("/second-factor", status_code=200)
    async def start_second_factor(self, request: Request[Any, Any, Any]) -> Template:
        principal = await _enrolling_operator(request)
        stint = _stint(request)
        enrolment = await start_enrolment(stint.uow, stint.codes, Holder.of(principal.operator))
        return render(
            request, "admin/second_factor.html", None,
            _sf_ctx(stint, principal, enrolment=enrolment),
        )

    @post("/second-factor/confirm", status_code=200)
    async def confirm_second_factor(
        self, request: Request[Any, Any, Any], data: Annotated[CodeForm, _URL_ENCODED]
    ) -> Template:
        principal = await _enrolling_operator(request)
        stint = _stint(request)
        try:
            async with counting_wrong_codes(stint, principal.operator.id):
                recovery = await confirm_enrolment(
                    stint.uow, stint.codes, stint.clock, Holder.of(principal.operator), code=data.code,
                    address=client_address(request),
                )
        except InvalidCode as exc:
            return render(
                request, "admin/second_factor.html", None,
                _sf_ctx(stint, principal, error=exc.detail),
                status_code=422,
            )
        return render(
            request, "admin/second_factor.html", None,
            _sf_ctx(stint, principal, recovery=recovery),
        )

    @post("/signout", status_code=303)
    async def sign_out(self, request: Request[Any, Any, Any]) -> Response[Any]:
        headers = {"HX-Redirect": "/admin"} if is_htmx(request) else None
        return Redirect(
            "/admin", status_code=303, cookies=[signed_out_cookie(_stint(request))], headers=headers
        )

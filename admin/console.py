"""``/admin``: the operator console. Thin handlers over the operator use cases
(``core.services.operators``), the directory's listings, and activation file issuing."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import File, Redirect, Template

from core.audit import AuditQuery
from core.errors import InvalidCredentials, ValidationFailed
from core.licensing.plan_dicts import plan_to_dict
from core.services.identity import authenticate_operator
from core.services.operators import mark_invoice_paid, replace_plans, set_trial_end
from core.services.retention import purge_tenant_now
from core.services.second_factor import (
    CodeNeeded,
    Holder,
    InvalidCode,
    confirm_enrolment,
    start_enrolment,
)
from core.services.security_history import installation_audit
from core.services.tenant_data import operator_export
from plugins.bootstrap import Stint, jobs_status
from web.api.tenant_data import archive_file
from web.auth import OperatorPrincipal
from web.deps import provide_stint
from web.pages.render import is_htmx, render
from web.second_factor import counting_wrong_codes, operator_may_proceed
from web.security import account_key, client_address, limit_per_client, refuse_if_limited

from .errors import ConsoleSignInRequired, SecondFactorEnrolmentRequired
from .session import operator_cookie, operator_principal, signed_out_cookie

__all__ = ["ConsoleController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
Search = Annotated[str, QueryParameter(name="q", max_length=64)]


class SignInForm(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(max_length=320)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    code: Annotated[str, msgspec.Meta(max_length=64)] = ""


class CodeForm(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=64)] = ""


class TrialForm(msgspec.Struct):
    ends_on: date


class PurgeForm(msgspec.Struct):
    confirm: Annotated[str, msgspec.Meta(max_length=200)] = ""


class PlanForm(msgspec.Struct):
    """The plan as the catalogue stores it, edited as JSON (every field, exactly typed)."""

    plan: Annotated[str, msgspec.Meta(max_length=4000)]


class ActivationForm(msgspec.Struct):
    tenant: Annotated[str, msgspec.Meta(max_length=64)]
    server_id: Annotated[str, msgspec.Meta(max_length=64)]
    plan: Annotated[str, msgspec.Meta(max_length=32)]
    seats: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    expires: date


def _stint(request: Request[Any, Any, Any]) -> Stint:
    return provide_stint(request.app.state)


async def _operator(request: Request[Any, Any, Any]) -> OperatorPrincipal:
    principal = await operator_principal(request)
    if principal is None:
        raise ConsoleSignInRequired
    if not operator_may_proceed(_stint(request), principal.operator):
        raise SecondFactorEnrolmentRequired
    return principal


async def _enrolling_operator(request: Request[Any, Any, Any]) -> OperatorPrincipal:
    """The signed-in operator, with or without a second factor (the enrolment pages)."""
    principal = await operator_principal(request)
    if principal is None:
        raise ConsoleSignInRequired
    return principal


def _ctx(principal: OperatorPrincipal, section: str, **extra: Any) -> dict[str, Any]:
    return {"operator": principal.operator, "section": section, "nav": {}, **extra}


def _sf_ctx(stint: Stint, principal: OperatorPrincipal, **extra: Any) -> dict[str, Any]:
    return _ctx(principal, "second-factor", required=stint.settings.operator_2fa_required, **extra)


async def _tenant_rows(stint: Stint, search: str) -> list[dict[str, Any]]:
    rows = []
    async with stint.uow() as work:
        for tenant in await work.directory.tenants(search=search.strip().lower(), limit=100):
            sub = (await work.tenant(tenant.id).subscriptions().get()).subscription
            rows.append({"tenant": tenant, "sub": sub})
    return rows


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

    @get("/activation")
    async def activation(self, request: Request[Any, Any, Any]) -> Template:
        principal = await _operator(request)
        stint = _stint(request)
        async with stint.uow() as work:
            plans = [
                p
                for p in await work.directory.catalogue.load()
                if "onprem" in {str(d) for d in p.deployments}
            ]
        dev = not stint.settings.activation_signing_key
        return render(
            request, "admin/activation.html", None, _ctx(principal, "activation", plans=plans, dev_key=dev)
        )

    @post("/activation", status_code=200)
    async def issue(
        self, request: Request[Any, Any, Any], data: Annotated[ActivationForm, _URL_ENCODED]
    ) -> Response[bytes]:
        """Sign an offline activation file and send it as a download."""
        principal = await _operator(request)
        # The same checks and audit entry as POST /api/v1/operator/activation-files, plus:
        # the console only issues files for tenants it knows.
        issued = await _stint(request).activation_issuer.issue(
            operator=principal.operator, tenant=data.tenant, server_id=data.server_id,
            plan_id=data.plan, seats=data.seats, expires_on=data.expires, require_known_tenant=True,
            address=client_address(request),
        )
        name = f"stint-activation-{data.tenant.strip()}-{data.server_id.strip()}.txt"
        return Response(
            (issued.text + "\n").encode("ascii"),
            media_type="text/plain",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @get("/billing-events")
    async def billing_events(self, request: Request[Any, Any, Any]) -> Template:
        principal = await _operator(request)
        async with _stint(request).uow() as work:
            events = await work.directory.billing_events(limit=200)
        return render(request, "admin/billing_events.html", None, _ctx(principal, "billing", events=events))

    @get("/jobs")
    async def jobs(self, request: Request[Any, Any, Any]) -> Template:
        """The background jobs' last runs (with errors and the worker) and what waits: the
        details the public /health no longer shows."""
        principal = await _operator(request)
        status = await jobs_status(_stint(request))
        return render(request, "admin/jobs.html", None, _ctx(principal, "jobs", jobs=status))

    @get("/audit")
    async def audit(
        self,
        request: Request[Any, Any, Any],
        action: Annotated[str, QueryParameter(max_length=64)] = "",
        actors: Annotated[Literal["all", "operator", "user", "unknown"], QueryParameter()] = "all",
        tenant: Annotated[str, QueryParameter(max_length=64)] = "",
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
    ) -> Template:
        """Every tenant's security events and the installation's, each naming its tenant."""
        principal = await _operator(request)
        (events, next_cursor), slugs = await installation_audit(
            _stint(request).uow, tenant_slug=tenant.strip(), action=action,
            actor_kind="" if actors == "all" else actors, cursor=cursor, limit=100,
        )
        context = _ctx(
            principal, "audit", events=events, slugs=slugs, action=action, actors=actors, tenant=tenant,
            next_cursor=next_cursor, first_page=not cursor,
        )
        return render(request, "admin/audit.html", "admin/_audit.html", context)

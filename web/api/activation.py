"""On-premises activation on the Subscription page (SPEC §7), and the operator's file issuing.

Tenant side (collection admins, allowed while expired — that is when it is needed):
the server id, the activation's state with its warnings, online activation by
subscription id and its refresh on demand, and the upload of an activation file.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import JSONBody

from core.activation.claims import MAX_FILE_BYTES, ActivationRefused, describe
from core.activation.ports import LicenceServiceUnreachable
from core.errors import ValidationFailed
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.activation import (
    ActivationView,
    activate_online,
    activation_view,
    install_activation_file,
    installation_server_id,
    refresh_tenant,
)
from plugins.bootstrap import Stint

from ..access import requires
from ..auth import OperatorPrincipal, TenantPrincipal
from ..deps import StintDep
from ..schemas import Strict
from ..security import client_address

__all__ = ["ActivationController", "OperatorActivationFilesController"]

TenantRequest = Request[TenantPrincipal, Any, Any]


class ServerIdOut(msgspec.Struct):
    server_id: str


class InstalledFileOut(msgspec.Struct):
    file_id: str
    issued_at: datetime
    key_id: str
    tenant: str
    server_id: str


class ActivationOut(msgspec.Struct):
    server_id: str
    mode: str | None
    plan: str | None
    seats: int | None
    interval: str | None
    period_start: date | None
    expires_on: date | None
    #: The last day Stint works on this entitlement: its expiry plus 7 days of grace, minus one.
    valid_through: date | None
    status: str | None
    subscription_id: str | None
    refreshed_at: datetime | None
    last_attempt_at: datetime | None
    refresh_error: str | None
    installed_file: InstalledFileOut | None
    warnings: list[str]


class ActivateIn(Strict):
    subscription_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


def activation_out(view: ActivationView) -> ActivationOut:
    record, ent = view.record, view.record.entitlement
    claims = record.file_state.installed
    return ActivationOut(
        server_id=view.server_id,
        mode=record.mode,
        plan=ent.plan_id if ent else None,
        seats=ent.seats if ent else None,
        interval=ent.interval if ent else None,
        period_start=ent.period_start if ent else None,
        expires_on=ent.expires_on if ent else None,
        valid_through=view.holds_until - timedelta(days=1) if view.holds_until else None,
        status=ent.status if ent else None,
        subscription_id=record.subscription_id,
        refreshed_at=record.refreshed_at,
        last_attempt_at=record.attempted_at,
        refresh_error=record.refresh_error,
        installed_file=InstalledFileOut(
            file_id=claims.file_id, issued_at=claims.issued_at, key_id=claims.key_id,
            tenant=claims.tenant, server_id=claims.server_id,
        ) if claims else None,
        warnings=list(view.warnings),
    )


async def _view(stint: Stint, principal: TenantPrincipal) -> ActivationOut:
    view = await activation_view(stint.uow, stint.activations, stint.clock, tenant=principal.tenant,
                                 clock_tolerance=stint.settings.clock_tolerance)
    return activation_out(view)


async def _uploaded_text(request: TenantRequest) -> str:
    """The file as the raw body, or as multipart field ``file``."""
    media_type = request.headers.get("content-type", "").lower()
    if media_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("send the activation file in the multipart field 'file'", field="file")
        data = await upload.read()
    else:
        data = await request.body()
    if not data.strip():
        raise ValidationFailed("the request has no activation file", field="file")
    if len(data) > MAX_FILE_BYTES:
        raise ActivationRefused.malformed("it is far larger than any activation file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ActivationRefused.malformed("it is not text") from None


class ActivationController(Controller):
    path = "/subscription"
    tags = ("activation",)

    @get("/server-id", summary="This server's id (send it to support)",
         guards=[requires(Action.VIEW_SUBSCRIPTION, Scope.ADMIN)])
    async def server_id(self, stint: StintDep) -> ServerIdOut:
        return ServerIdOut(server_id=await installation_server_id(stint.uow, stint.activations, stint.clock))

    @get("/activation", summary="How this tenant is activated, with warnings",
         guards=[requires(Action.VIEW_SUBSCRIPTION, Scope.ADMIN)])
    async def show(self, request: TenantRequest, stint: StintDep) -> ActivationOut:
        return await _view(stint, request.user)

    @post("/activate", status_code=200, summary="Activate online with a subscription id",
          guards=[requires(Action.PURCHASE, Scope.ADMIN)])
    async def activate(
        self, request: TenantRequest, data: JSONBody[ActivateIn], stint: StintDep
    ) -> ActivationOut:
        principal = request.user
        await activate_online(
            stint.uow, stint.activations, stint.licence_client, stint.clock,
            tenant=principal.tenant, actor=principal.user, subscription_id=data.subscription_id,
        )
        return await _view(stint, principal)

    @post("/activation/refresh", status_code=200, summary="Refresh the online licence now",
          guards=[requires(Action.PURCHASE, Scope.ADMIN)])
    async def refresh(self, request: TenantRequest, stint: StintDep) -> ActivationOut:
        principal = request.user
        error = await refresh_tenant(stint.uow, stint.activations, stint.licence_client, stint.clock,
                                     tenant=principal.tenant)
        view = await _view(stint, principal)
        if error is not None:
            holds = f" The current licence stays valid up to and including {view.valid_through}." \
                if view.valid_through else ""
            raise LicenceServiceUnreachable(f"Could not refresh the licence: {error}.{holds}")
        return view

    @post("/activation-file", status_code=200, summary="Install an activation file (offline)",
          guards=[requires(Action.PURCHASE, Scope.ADMIN)])
    async def upload(self, request: TenantRequest, stint: StintDep) -> ActivationOut:
        principal = request.user
        text = await _uploaded_text(request)
        await install_activation_file(
            stint.uow, stint.activations, stint.activation_files, stint.clock,
            tenant=principal.tenant, actor=principal.user, text=text,
        )
        return await _view(stint, principal)


# Operator: issue a file -----------------------------------------------------------------------


class IssueIn(Strict):
    tenant: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    server_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    plan: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    seats: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    expires_on: date
    period_start: date | None = None


class IssuedOut(msgspec.Struct):
    file: str
    file_id: str
    tenant: str
    server_id: str
    plan: str
    seats: int
    period_start: date
    expires_on: date
    issued_at: datetime
    key_id: str
    development_key: bool
    summary: str


class OperatorActivationFilesController(Controller):
    path = "/activation-files"
    tags = ("operator",)

    @post("/", status_code=201, summary="Issue a signed offline activation file")
    async def issue(
        self, request: Request[OperatorPrincipal, Any, Any], data: JSONBody[IssueIn], stint: StintDep
    ) -> IssuedOut:
        issued = await stint.activation_issuer.issue(
            operator=request.user.operator, tenant=data.tenant, server_id=data.server_id,
            plan_id=data.plan, seats=data.seats, expires_on=data.expires_on, period_start=data.period_start,
            address=client_address(request),
        )
        text, claims = issued.text, issued.claims
        return IssuedOut(
            file=text, file_id=claims.file_id, tenant=claims.tenant, server_id=claims.server_id,
            plan=claims.plan_id, seats=claims.seats, period_start=claims.period_start,
            expires_on=claims.expires_on, issued_at=claims.issued_at, key_id=claims.key_id,
            development_key=issued.dev_key, summary=describe(claims),
        )

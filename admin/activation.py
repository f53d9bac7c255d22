"""``/admin/activation``: offline activation files for on-premises installations, signed
here for a known tenant and a plan that allows on-premises, and sent as a download."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from web.pages.render import render
from web.security import client_address

from .context import _URL_ENCODED, _ctx, _operator, _stint

__all__ = ["ActivationController"]


class ActivationForm(msgspec.Struct):
    tenant: Annotated[str, msgspec.Meta(max_length=64)]
    server_id: Annotated[str, msgspec.Meta(max_length=64)]
    plan: Annotated[str, msgspec.Meta(max_length=32)]
    seats: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    expires: date


class ActivationController(Controller):
    """Issuing offline activation files."""

    path = "/"
    include_in_schema = False

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

"""``/api/v1/audit``: the tenant's security history, for its Administrators.

Sign-ins and failed sign-ins, sign-outs, tokens created and revoked, refresh tokens
reused, role and licence changes, each with the client address it came from; newest
first, a page at a time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import QueryParameter

from core.audit import AuditRecord
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.security_history import tenant_audit

from ..access import requires
from ..auth import TenantPrincipal
from ..deps import StintDep

__all__ = ["AuditController", "audit_out"]


class AuditItem(msgspec.Struct):
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    address: str | None


class AuditPageOut(msgspec.Struct):
    items: list[AuditItem]
    next_cursor: str | None


def audit_out(record: AuditRecord) -> AuditItem:
    return AuditItem(
        at=record.at, actor=record.actor, action=record.action, subject=record.subject,
        detail=record.detail, address=record.address,
    )


_ACTION = "An action, or a family of them: signin matches signin and signin.failed."
_USER = "A user id: what the user did and what was done to them."


class AuditController(Controller):
    path = "/audit"
    tags = ("audit",)

    @get("/", guards=[requires(Action.VIEW_AUDIT, Scope.ADMIN)],
         summary="The tenant's security history, newest first")
    async def list_events(
        self,
        request: Request[TenantPrincipal, Any, Any],
        stint: StintDep,
        action: Annotated[str, QueryParameter(max_length=64, description=_ACTION)] = "",
        user: Annotated[str, QueryParameter(max_length=64, description=_USER)] = "",
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> AuditPageOut:
        rows, next_cursor = await tenant_audit(
            stint.uow, tenant=request.user.tenant, action=action, user_id=user, cursor=cursor, limit=limit
        )
        return AuditPageOut(items=[audit_out(r) for r in rows], next_cursor=next_cursor)

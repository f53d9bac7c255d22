"""``/api/v1/me/tokens``: the caller's personal access tokens (SPEC §9).

A token is shown once, in the answer that creates it; lists show its name, dates, scopes
and last use, never the secret. A personal access token cannot create another one, whatever
its scopes: a leaked token must not be able to outlive its own expiry, nor mint a wider one.
There is no PATCH: a token's scopes are fixed when it is made.

``scopes`` (``core.identity.scopes``) limits what the token may be used for; without it the
token may do everything its user's role allows, as every token did before scopes. Lists show
such a token with every scope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.params import JSONBody, PathParameter, QueryParameter

from core.errors import AccessDenied
from core.identity.ports import PersonalTokenRecord
from core.identity.scopes import Scope, parse_scopes
from core.licensing.access import Action
from core.services.tokens import (
    MAX_PAT_DAYS,
    create_personal_token,
    list_personal_tokens,
    revoke_personal_token,
)

from ..access import requires
from ..auth import TenantPrincipal
from ..deps import StintDep
from ..idempotency import IDEMPOTENCY_OPT
from ..schemas import Strict
from ..security import client_address

__all__ = ["PersonalTokensController", "scope_list"]


class NewTokenIn(Strict):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=MAX_PAT_DAYS)]
    #: Left out (or null): full access. An unknown name is a 422 from the decoder.
    scopes: Annotated[list[Scope], msgspec.Meta(max_length=len(Scope))] | None = None


class NewTokenOut(msgspec.Struct):
    id: str
    token: str
    name: str
    expires_at: datetime
    scopes: list[Scope]


class TokenOut(msgspec.Struct):
    id: str
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    scopes: list[Scope]


class TokenPage(msgspec.Struct):
    items: list[TokenOut]
    next_cursor: str | None


def scope_list(scopes: frozenset[Scope] | None) -> list[Scope]:
    """A token's scopes in their fixed order; an unrestricted token has them all."""
    return [s for s in Scope if scopes is None or s in scopes]


def _out(record: PersonalTokenRecord) -> TokenOut:
    return TokenOut(
        id=record.id, name=record.name, created_at=record.created_at,
        expires_at=record.expires_at, last_used_at=record.last_used_at, scopes=scope_list(record.scopes),
    )


class PersonalTokensController(Controller):
    path = "/me/tokens"
    tags = ("me",)

    # The answer shows the secret once; it is never kept for an idempotent replay.
    @post("/", status_code=201,
          guards=[requires(Action.USE_API, Scope.ADMIN)], summary="Create a personal access token",
          opt={IDEMPOTENCY_OPT: False})
    async def create(
        self, data: JSONBody[NewTokenIn], request: Request[TenantPrincipal, object, State], stint: StintDep
    ) -> NewTokenOut:
        principal = request.user
        if principal.personal_token_id is not None or principal.claims.client_id is not None:
            # Nor an app's token: a new token could hold scopes the user never consented to.
            raise AccessDenied(
                "not_permitted", "Sign in to create a personal access token; a token cannot make another."
            )
        scopes = None if data.scopes is None else parse_scopes(data.scopes)
        record, secret = await create_personal_token(
            stint.uow, stint.clock, tenant_id=principal.tenant.id, user_id=principal.user.id,
            name=data.name, expires_in_days=data.expires_in_days, address=client_address(request),
            scopes=scopes,
        )
        return NewTokenOut(id=record.id, token=secret, name=record.name, expires_at=record.expires_at,
                           scopes=scope_list(record.scopes))

    @get("/", guards=[requires(Action.USE_API, Scope.ADMIN)], summary="The caller's personal access tokens")
    async def list_tokens(
        self,
        request: Request[TenantPrincipal, object, State],
        stint: StintDep,
        cursor: Annotated[str, QueryParameter(max_length=64)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> TokenPage:
        principal = request.user
        found = await list_personal_tokens(
            stint.uow, tenant_id=principal.tenant.id, user_id=principal.user.id, after=cursor, limit=limit + 1
        )
        items = [_out(r) for r in found[:limit]]
        return TokenPage(items=items, next_cursor=items[-1].id if len(found) > limit else None)

    @delete("/{token_id:str}", status_code=204, guards=[requires(Action.USE_API, Scope.ADMIN)],
            summary="Revoke a personal access token")
    async def revoke(
        self,
        token_id: Annotated[str, PathParameter(max_length=64)],
        request: Request[TenantPrincipal, object, State], stint: StintDep
    ) -> None:
        principal = request.user
        await revoke_personal_token(
            stint.uow, stint.clock, tenant_id=principal.tenant.id, user_id=principal.user.id,
            token_id=token_id, address=client_address(request),
        )

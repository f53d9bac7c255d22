"""What acts for a user (issue #20): their apps' grants and personal access tokens as the
Apps page lists them, revoking one or all of the grants ("Unpair all apps"), and an app
giving its grant back (RFC 7009)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.clock import Clock
from core.errors import NotFound
from core.identity.ports import RefreshTokenRecord
from core.identity.scopes import ALL_SCOPES, Scope
from core.unit_of_work import UnitOfWorkFactory

from .tokens import refresh_record

__all__ = ["AppEntry", "list_apps", "refresh_family", "revoke_all_apps", "revoke_app", "revoke_grant"]


@dataclass(frozen=True, slots=True)
class AppEntry:
    """Something that can act for the user: an app's grant or a personal access token."""

    id: str
    kind: str  # "app" or "token"
    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    last_used_at: datetime | None
    address: str | None
    client_id: str | None = None


async def list_apps(uow: UnitOfWorkFactory, *, tenant_id: str, user_id: str) -> list[AppEntry]:
    """The user's live app grants, then their live personal access tokens."""
    async with uow() as work:
        tokens = work.tenant(tenant_id).tokens()
        grants = await tokens.app_grants(user_id)
        pats = await tokens.pats(user_id, limit=200)
        names: dict[str, str] = {}
        for grant in grants:
            if grant.client_id not in names:
                client = await work.oauth().client(grant.client_id)
                names[grant.client_id] = client.name if client else grant.client_id
    entries = [
        AppEntry(id=g.family_id, kind="app", name=names[g.client_id], scopes=g.scopes or ALL_SCOPES,
                 created_at=g.created_at, last_used_at=g.last_used_at, address=g.address,
                 client_id=g.client_id)
        for g in grants
    ]
    entries.extend(
        AppEntry(id=p.id, kind="token", name=p.name, scopes=p.scopes or ALL_SCOPES, created_at=p.created_at,
                 last_used_at=p.last_used_at, address=None)
        for p in pats
    )
    return entries


async def revoke_app(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant_id: str, user_id: str, app_id: str,
    address: str | None = None,
) -> None:
    """Revoke one app grant (its whole family) or personal access token of the user's own."""
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant_id)
        tokens = scope.tokens()
        if app_id in await tokens.app_families(user_id):
            await tokens.revoke_family(user_id, app_id, now)
        elif not await tokens.revoke_pat(user_id, app_id, now):
            raise NotFound("no such app or token")
        await scope.audit().record(f"user:{user_id}", "app.revoked", app_id, {}, now, address=address)
        await work.commit()


async def revoke_all_apps(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant_id: str, user_id: str, address: str | None = None
) -> int:
    """"Unpair all apps": every app grant of the user is revoked (personal tokens are kept:
    they are revoked one by one). The revocation moves the user's cache generation, so every
    process refuses the apps' access tokens on their next request. How many grants ended."""
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant_id)
        tokens = scope.tokens()
        families = await tokens.app_families(user_id)
        for family in families:
            await tokens.revoke_family(user_id, family, now)
        await scope.audit().record(f"user:{user_id}", "app.unpaired_all", user_id,
                                   {"grants": len(families)}, now, address=address)
        await work.commit()
    return len(families)


async def refresh_family(uow: UnitOfWorkFactory, token: str) -> RefreshTokenRecord | None:
    """The app grant a refresh token belongs to (a sign-in's token is not an app's: None)."""
    found = await refresh_record(uow, token)
    return found if found is not None and found.client_id is not None else None


async def revoke_grant(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant_id: str, user_id: str, family_id: str,
    address: str | None = None,
) -> None:
    """An app gives its grant back (RFC 7009): the family, and so its access tokens, end."""
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant_id)
        if await scope.tokens().revoke_family(user_id, family_id, now):
            await scope.audit().record(f"user:{user_id}", "app.revoked", family_id, {}, now, address=address)
        await work.commit()

"""OAuth 2.0 apps (issue #20): registering clients, codes, the device flow, and the Apps page.

The rules are ``core.identity.oauth``'s; the protocol is Authlib's (``web/oauth/``), which
calls these use cases for everything it reads or writes. Tokens are the sign-in's machinery
(``core.services.tokens``): an app's grant is a refresh-token family that names its client and
the consented scopes, so rotation, reuse detection and revocation are the same code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.clock import Clock
from core.errors import NotFound, ValidationFailed
from core.identity.oauth import (
    CODE_LIFETIME,
    DEVICE_LIFETIME,
    TRACKER_CLIENT_ID,
    AuthorizationCode,
    ClientKind,
    DeviceCode,
    OAuthClient,
    check_client_name,
    check_redirect_uris,
    new_user_code,
    normal_user_code,
    polled_too_soon,
)
from core.identity.ports import RefreshTokenRecord
from core.identity.scopes import ALL_SCOPES, Scope, scope_text
from core.ids import new_id
from core.unit_of_work import UnitOfWorkFactory

from .tokens import hash_token, refresh_record

__all__ = [
    "UNKNOWN_DEVICE_CODE",
    "AppEntry",
    "DevicePoll",
    "bind_code",
    "decide_device",
    "ensure_tracker_client",
    "find_client",
    "issue_code",
    "list_apps",
    "pending_device",
    "poll_device",
    "redeem_code",
    "refresh_family",
    "register_client",
    "revoke_all_apps",
    "revoke_app",
    "revoke_grant",
    "set_client_disabled",
    "start_device",
    "tenant_clients",
]

_CODE_BYTES = 32
UNKNOWN_DEVICE_CODE = "That code is unknown, expired or already used. Start again on the device."


async def register_client(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant_id: str | None, registered_by: str, name: str,
    kind: ClientKind, redirect_uris: list[str], scopes: frozenset[Scope], device_grant: bool = False,
    client_id: str | None = None, address: str | None = None,
) -> tuple[OAuthClient, str | None]:
    """A new client; a confidential one's secret is returned here and never again.

    ``tenant_id`` None registers a first-party client (the operator's); otherwise the tenant
    admin's third-party app, for that tenant's users only.
    """
    uris = check_redirect_uris(redirect_uris, kind)
    if not uris and not device_grant:
        raise ValidationFailed("an app needs a redirect URI, or the device grant", field="redirect_uris")
    if not scopes:
        raise ValidationFailed("an app needs at least one scope", field="scopes")
    secret = secrets.token_urlsafe(32) if kind is ClientKind.CONFIDENTIAL else None
    client = OAuthClient(
        id=client_id or f"app_{new_id()}", name=check_client_name(name), kind=kind, redirect_uris=uris,
        allowed_scopes=scopes, tenant_id=tenant_id, secret_hash=hash_token(secret) if secret else None,
        device_grant=device_grant, disabled=False, created_at=clock.now(), created_by=registered_by,
    )
    async with uow(write=True) as work:
        await work.oauth().add_client(client)
        if tenant_id is not None:
            await work.tenant(tenant_id).audit().record(
                registered_by, "app.registered", client.name,
                {"id": client.id, "kind": kind.value, "scopes": scope_text(scopes) or ""}, client.created_at,
                address=address,
            )
        await work.commit()
    return client, secret


async def ensure_tracker_client(uow: UnitOfWorkFactory, clock: Clock) -> bool:
    """Register the first-party ``stint-tracker`` (public, device grant) unless it exists."""
    if await find_client(uow, TRACKER_CLIENT_ID) is not None:
        return False
    await register_client(
        uow, clock, tenant_id=None, registered_by="operator", name="Stint tracker", kind=ClientKind.PUBLIC,
        redirect_uris=[], scopes=frozenset({Scope.TRACKING, Scope.WORKLOGS_READ, Scope.WORKLOGS_WRITE}),
        device_grant=True, client_id=TRACKER_CLIENT_ID,
    )
    return True


async def find_client(uow: UnitOfWorkFactory, client_id: str) -> OAuthClient | None:
    if not client_id or len(client_id) > 64:
        return None
    async with uow() as work:
        return await work.oauth().client(client_id)


async def tenant_clients(uow: UnitOfWorkFactory, tenant_id: str) -> list[OAuthClient]:
    async with uow() as work:
        return await work.oauth().tenant_clients(tenant_id)


async def set_client_disabled(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant_id: str, actor: str, client_id: str, disabled: bool,
    address: str | None = None,
) -> OAuthClient:
    """Disable (or enable again) one of the tenant's apps for everybody. Disabling revokes
    every grant to it, so its tokens are refused on their next request in every process."""
    now = clock.now()
    async with uow(write=True) as work:
        store = work.oauth()
        if not await store.set_client_disabled(tenant_id, client_id, disabled):
            raise NotFound("no such app")
        scope = work.tenant(tenant_id)
        if disabled:
            await scope.tokens().revoke_client(client_id, now)
        await scope.audit().record(actor, "app.disabled" if disabled else "app.enabled", client_id, {}, now,
                                   address=address)
        found = await store.client(client_id)
        await work.commit()
    assert found is not None  # just updated in this transaction
    return found


# Authorization codes ----------------------------------------------------------------------


async def issue_code(
    uow: UnitOfWorkFactory, clock: Clock, *, code: str, client: OAuthClient, tenant_id: str, user_id: str,
    redirect_uri: str, code_challenge: str, scopes: frozenset[Scope],
) -> None:
    """Keep the code (its hash) Authlib just made for the consent given: single use, short-lived."""
    if len(code) < 32:
        raise ValueError("an authorization code needs at least 32 characters of randomness")
    record = AuthorizationCode(
        code_hash=hash_token(code), client_id=client.id, tenant_id=tenant_id, user_id=user_id,
        redirect_uri=redirect_uri, code_challenge=code_challenge, scopes=scopes,
        expires_at=clock.now() + CODE_LIFETIME,
    )
    async with uow(write=True) as work:
        await work.oauth().add_code(record)
        await work.commit()


async def redeem_code(
    uow: UnitOfWorkFactory, clock: Clock, code: str, client_id: str
) -> AuthorizationCode | None:
    """The code's grant, used up by this call; None for an unknown, expired, already used or
    another client's code (all one ``invalid_grant`` to the caller)."""
    if not code or len(code) > 200:
        return None
    now = clock.now()
    async with uow(write=True) as work:
        found = await work.oauth().take_code(hash_token(code), now)
        if found is not None and found.used_at is not None and found.family_id is not None:
            # Presented again: one of the two holders stole it. The tokens it gave end too.
            scope = work.tenant(found.tenant_id)
            if await scope.tokens().revoke_family(found.user_id, found.family_id, now):
                await scope.audit().record(f"user:{found.user_id}", "app.code_reused", found.client_id, {},
                                           now)
        await work.commit()
    if found is None or found.used_at is not None or found.client_id != client_id or found.expires_at <= now:
        return None
    return found


async def bind_code(uow: UnitOfWorkFactory, code: AuthorizationCode, family_id: str) -> None:
    """Remember which grant a code's tokens started (see :func:`redeem_code`)."""
    async with uow(write=True) as work:
        await work.oauth().bind_code(code.code_hash, family_id)
        await work.commit()


# Device authorization (RFC 8628) -----------------------------------------------------------


class DevicePoll(StrEnum):
    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    EXPIRED = "expired_token"
    DENIED = "access_denied"
    APPROVED = "approved"
    UNKNOWN = "invalid_grant"


async def start_device(
    uow: UnitOfWorkFactory, clock: Clock, *, client: OAuthClient, scopes: frozenset[Scope]
) -> tuple[str, str]:
    """A new device code and the user code a person types on ``/device``."""
    device_code = secrets.token_urlsafe(_CODE_BYTES)
    now = clock.now()
    async with uow(write=True) as work:
        store = work.oauth()
        user_code = new_user_code()
        while await store.device_by_user_code(user_code) is not None:
            user_code = new_user_code()
        await store.add_device(DeviceCode(
            device_code_hash=hash_token(device_code), user_code=user_code, client_id=client.id, scopes=scopes,
            expires_at=now + DEVICE_LIFETIME,
        ))
        await work.commit()
    return device_code, user_code


async def pending_device(uow: UnitOfWorkFactory, clock: Clock, typed: str) -> tuple[DeviceCode, OAuthClient]:
    """The live, unanswered code a person typed, and its app; NotFound otherwise."""
    async with uow() as work:
        found = await work.oauth().device_by_user_code(normal_user_code(typed))
        client = await work.oauth().client(found.client_id) if found else None
    if found is None or client is None or found.approved is not None or found.expires_at <= clock.now():
        raise NotFound(UNKNOWN_DEVICE_CODE)
    return found, client


async def decide_device(
    uow: UnitOfWorkFactory, clock: Clock, *, typed: str, tenant_id: str, user_id: str, approve: bool,
    address: str | None = None,
) -> OAuthClient:
    """A signed-in user's answer for the device showing ``typed``."""
    found, client = await pending_device(uow, clock, typed)
    if approve and not client.serves(tenant_id):
        raise NotFound(UNKNOWN_DEVICE_CODE)
    now = clock.now()
    async with uow(write=True) as work:
        if not await work.oauth().decide_device(found.user_code, tenant_id, user_id, approve, now):
            raise NotFound(UNKNOWN_DEVICE_CODE)
        await work.tenant(tenant_id).audit().record(
            f"user:{user_id}", "app.device_approved" if approve else "app.device_denied", client.id,
            {"scopes": scope_text(found.scopes) or ""}, now, address=address,
        )
        await work.commit()
    return client


async def poll_device(
    uow: UnitOfWorkFactory, clock: Clock, device_code: str, client_id: str
) -> tuple[DevicePoll, DeviceCode | None]:
    """One poll of the token endpoint: where the device's authorisation stands. An approved
    code is used up by the poll that learns it (APPROVED comes once)."""
    if not device_code or len(device_code) > 200:
        return DevicePoll.UNKNOWN, None
    now = clock.now()
    async with uow(write=True) as work:
        store = work.oauth()
        found = await store.device(hash_token(device_code))
        if found is None or found.client_id != client_id or found.used_at is not None:
            return DevicePoll.UNKNOWN, None
        if found.expires_at <= now:
            return DevicePoll.EXPIRED, found
        if found.approved is False:
            return DevicePoll.DENIED, found
        if found.approved:
            taken = await store.take_device(found.device_code_hash, now)
            await work.commit()
            return (DevicePoll.APPROVED, found) if taken else (DevicePoll.UNKNOWN, None)
        too_soon = polled_too_soon(found.last_polled_at, now)
        await store.polled(found.device_code_hash, now)
        await work.commit()
    return (DevicePoll.SLOW_DOWN if too_soon else DevicePoll.PENDING), found


# The Apps page -----------------------------------------------------------------------------


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

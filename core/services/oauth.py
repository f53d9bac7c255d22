"""OAuth 2.0 apps (issue #20): registering clients and authorization codes.

The rules are ``core.identity.oauth``'s; the protocol is Authlib's (``web/oauth/``), which
calls these use cases for everything it reads or writes. Tokens are the sign-in's machinery
(``core.services.tokens``): an app's grant is a refresh-token family that names its client and
the consented scopes, so rotation, reuse detection and revocation are the same code.

The device flow is :mod:`core.services.oauth_device`; an app's grants (the Apps page,
revoking them) are :mod:`core.services.oauth_grants`.
"""

from __future__ import annotations

import secrets

from core.clock import Clock
from core.errors import NotFound, ValidationFailed
from core.identity.oauth import (
    CODE_LIFETIME,
    TRACKER_CLIENT_ID,
    AuthorizationCode,
    ClientKind,
    OAuthClient,
    check_client_name,
    check_redirect_uris,
)
from core.identity.scopes import Scope, scope_text
from core.ids import new_id
from core.unit_of_work import UnitOfWorkFactory

from .tokens import hash_token

__all__ = [
    "bind_code",
    "ensure_tracker_client",
    "find_client",
    "issue_code",
    "redeem_code",
    "register_client",
    "set_client_disabled",
    "tenant_clients",
]


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

"""Refresh tokens and personal access tokens (SPEC §9).

Both are opaque, high-entropy secrets shown to their owner once and stored only as a
SHA-256 hash. Their text names the tenant (``stint_rt_<tenant id>_<secret>``,
``stint_pat_<tenant id>_<secret>``) so that the lookup is an ordinary tenant-scoped
query, and the prefix lets the API tell them from JWTs at a glance.

Refresh tokens rotate on every use: using one marks it used and gives a new one of
the same *family*. Presenting a used token again means it was copied — the whole
family is revoked, so the thief's and the owner's newer tokens both stop working.

A family is one sign-in. Its access tokens name it (``sid``), so revoking it — a sign-out,
a reused refresh token — also ends the access tokens it issued, on their next request
(:func:`session_revoked`), not when they expire.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from core.clock import Clock
from core.errors import InvalidCredentials, NotFound, ValidationFailed
from core.identity.ports import PersonalTokenRecord, RefreshTokenRecord
from core.identity.scopes import Scope, scope_text
from core.ids import new_id
from core.unit_of_work import TenantScope, UnitOfWorkFactory

__all__ = [
    "MAX_PAT_DAYS",
    "PAT_PREFIX",
    "REFRESH_LIFETIME",
    "REFRESH_PREFIX",
    "InvalidToken",
    "RefreshGrant",
    "authenticate_personal_token",
    "create_personal_token",
    "hash_token",
    "issue_refresh_token",
    "list_personal_tokens",
    "refresh_record",
    "revoke_personal_token",
    "revoke_refresh_family",
    "rotate_refresh_token",
    "session_revoked",
]

REFRESH_PREFIX = "stint_rt_"
PAT_PREFIX = "stint_pat_"
#: A refresh token unused for this long is dead; every use starts a new lifetime.
REFRESH_LIFETIME = timedelta(days=30)
#: Personal access tokens live at most a year (SPEC §9).
MAX_PAT_DAYS = 365
#: "Last used" is recorded to the minute: one write per token per minute, not per request.
_TOUCH_EVERY = timedelta(minutes=1)
_TENANT_ID_LENGTH = 32


class InvalidToken(InvalidCredentials):
    """The token is unknown, expired, revoked or reused; callers learn no more than that."""

    code = "invalid_token"


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    """What a good refresh token vouches for, and its successor."""

    tenant_id: str
    user_id: str
    family_id: str
    refresh_token: str
    #: The OAuth app the family was granted to, and the scopes consented (None: a sign-in).
    client_id: str | None = None
    scopes: frozenset[Scope] | None = None


def hash_token(token: str) -> str:
    """SHA-256 is enough: the secret has 256 bits of entropy, so no salt or stretching helps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_secret(prefix: str, tenant_id: str) -> str:
    return f"{prefix}{tenant_id}_{secrets.token_urlsafe(32)}"


def _tenant_of(token: str, prefix: str) -> str:
    body = token.removeprefix(prefix)
    tenant_id, sep, secret = body.partition("_")
    if (
        not token.startswith(prefix)
        or not sep
        or len(tenant_id) != _TENANT_ID_LENGTH
        or not tenant_id.isalnum()
        or len(secret) < 32
        or len(token) > 200
    ):
        raise InvalidToken("the token is not one Stint issued")
    return tenant_id


async def issue_refresh_token(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant_id: str, user_id: str,
    client_id: str | None = None, scopes: frozenset[Scope] | None = None, address: str | None = None,
) -> RefreshGrant:
    """The first refresh token of a new family: at sign-in, or an OAuth app's grant
    (``client_id`` and the consented ``scopes``)."""
    token = _new_secret(REFRESH_PREFIX, tenant_id)
    family_id = new_id()
    now = clock.now()
    async with uow(write=True) as work:
        await work.tenant(tenant_id).tokens().add_refresh(
            RefreshTokenRecord(
                id=new_id(), tenant_id=tenant_id, user_id=user_id, family_id=family_id,
                token_hash=hash_token(token), issued_at=now, expires_at=now + REFRESH_LIFETIME,
                client_id=client_id, scopes=scopes, address=address,
            )
        )
        await work.commit()
    return RefreshGrant(tenant_id, user_id, family_id, token, client_id, scopes)


async def _active(scope: TenantScope, user_id: str) -> bool:
    """The user exists and is not deactivated (a deactivated user's refresh tokens are dead)."""
    user = await scope.users().get(user_id)
    return user is not None and user.active


async def rotate_refresh_token(
    uow: UnitOfWorkFactory, clock: Clock, token: str, *, address: str | None = None,
    client_id: str | None = None,
) -> RefreshGrant:
    """Use ``token`` once: mark it used and return its successor, or refuse.

    A token used before is a copy in someone else's hands: its family is revoked.
    ``client_id`` is who presents it: None for the sign-in's own refresh, an OAuth app's id
    at the token endpoint. A token of another family kind is refused untouched — an app's
    token must not mint a sign-in's full-access tokens, nor one app's another's.
    """
    tenant_id = _tenant_of(token, REFRESH_PREFIX)
    now = clock.now()
    successor = _new_secret(REFRESH_PREFIX, tenant_id)
    reused = False
    async with uow(write=True) as work:
        scope = work.tenant(tenant_id)
        tokens = scope.tokens()
        record = await tokens.refresh_by_hash(hash_token(token), for_update=True)
        if record is not None and record.client_id != client_id:
            record = None
        if record is not None and record.used_at is not None:
            reused = True
            await tokens.revoke_family(record.user_id, record.family_id, now)
            await scope.audit().record(
                f"user:{record.user_id}", "token.refresh_reused", record.family_id, {}, now,
                address=address,
            )
            await work.commit()
        elif (
            record is not None
            and record.revoked_at is None
            and record.expires_at > now
            and await _active(scope, record.user_id)
        ):
            await tokens.mark_refresh_used(record.id, now)
            await tokens.add_refresh(
                RefreshTokenRecord(
                    id=new_id(), tenant_id=tenant_id, user_id=record.user_id, family_id=record.family_id,
                    token_hash=hash_token(successor), issued_at=now, expires_at=now + REFRESH_LIFETIME,
                    client_id=record.client_id, scopes=record.scopes, address=address or record.address,
                )
            )
            await work.commit()
            return RefreshGrant(tenant_id, record.user_id, record.family_id, successor, record.client_id,
                                record.scopes)
    if reused:
        raise InvalidToken("this refresh token was used before; every token of its sign-in is revoked")
    raise InvalidToken("the refresh token is unknown, expired or revoked")


async def refresh_record(uow: UnitOfWorkFactory, token: str) -> RefreshTokenRecord | None:
    """The stored record of a refresh token (live or not), or None for one Stint never issued."""
    try:
        tenant_id = _tenant_of(token, REFRESH_PREFIX)
    except InvalidToken:
        return None
    async with uow() as work:
        return await work.tenant(tenant_id).tokens().refresh_by_hash(hash_token(token))


async def revoke_refresh_family(
    uow: UnitOfWorkFactory, clock: Clock, token: str, *, address: str | None = None
) -> bool:
    """Sign out: revoke ``token``'s whole family. False when there was nothing to revoke."""
    try:
        tenant_id = _tenant_of(token, REFRESH_PREFIX)
    except InvalidToken:
        return False
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant_id)
        tokens = scope.tokens()
        record = await tokens.refresh_by_hash(hash_token(token), for_update=True)
        if record is None:
            return False
        revoked = await tokens.revoke_family(record.user_id, record.family_id, now)
        if revoked:
            await scope.audit().record(
                f"user:{record.user_id}", "signout", record.family_id, {}, now, address=address
            )
        await work.commit()
    return revoked > 0


async def session_revoked(uow: UnitOfWorkFactory, *, tenant_id: str, user_id: str, family_id: str) -> bool:
    """Whether the sign-in ``family_id`` of the user has been revoked (signed out, or its
    refresh token reused); its access tokens are refused from then on."""
    async with uow() as work:
        return await work.tenant(tenant_id).tokens().family_revoked(user_id, family_id)


def _check_pat(name: str, expires_in_days: int) -> str:
    clean = name.strip()
    if not 1 <= len(clean) <= 100:
        raise ValidationFailed("a token needs a name of 1 to 100 characters", field="name")
    if not 1 <= expires_in_days <= MAX_PAT_DAYS:
        raise ValidationFailed(
            f"a personal access token lives 1 to {MAX_PAT_DAYS} days", field="expires_in_days"
        )
    return clean


async def create_personal_token(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant_id: str, user_id: str, name: str, expires_in_days: int,
    address: str | None = None, scopes: frozenset[Scope] | None = None,
) -> tuple[PersonalTokenRecord, str]:
    """A new personal access token; the secret is returned here and never again.

    ``scopes`` None: full access (everything the user's role allows), as tokens had before
    scopes; otherwise at least one scope (``core.identity.scopes``).
    """
    clean = _check_pat(name, expires_in_days)
    if scopes is not None and not scopes:
        raise ValidationFailed("name at least one scope, or leave scopes out for full access", field="scopes")
    token = _new_secret(PAT_PREFIX, tenant_id)
    now = clock.now()
    record = PersonalTokenRecord(
        id=new_id(), tenant_id=tenant_id, user_id=user_id, name=clean, token_hash=hash_token(token),
        created_at=now, expires_at=now + timedelta(days=expires_in_days), scopes=scopes,
    )
    # The audit trail names what the token may do, so a broad token stands out.
    detail = {"id": record.id, "scopes": scope_text(scopes) or "all"}
    async with uow(write=True) as work:
        scope = work.tenant(tenant_id)
        await scope.tokens().add_pat(record)
        await scope.audit().record(
            f"user:{user_id}", "token.created", clean, detail, now, address=address
        )
        await work.commit()
    return record, token


async def list_personal_tokens(
    uow: UnitOfWorkFactory, *, tenant_id: str, user_id: str, after: str = "", limit: int = 50
) -> list[PersonalTokenRecord]:
    async with uow() as work:
        return await work.tenant(tenant_id).tokens().pats(user_id, after=after, limit=limit)


async def revoke_personal_token(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant_id: str, user_id: str, token_id: str,
    address: str | None = None,
) -> None:
    """Revoke one of the caller's own tokens; anyone else's is "not found"."""
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant_id)
        if not await scope.tokens().revoke_pat(user_id, token_id, now):
            raise NotFound("no such token")
        await scope.audit().record(f"user:{user_id}", "token.revoked", token_id, {}, now, address=address)
        await work.commit()


async def authenticate_personal_token(
    uow: UnitOfWorkFactory, clock: Clock, token: str
) -> PersonalTokenRecord:
    """The live token ``token`` is; its last use is recorded (to the minute)."""
    tenant_id = _tenant_of(token, PAT_PREFIX)
    now = clock.now()
    async with uow() as work:
        record = await work.tenant(tenant_id).tokens().pat_by_hash(hash_token(token))
    if record is None or record.revoked_at is not None:
        raise InvalidToken("the personal access token is unknown or revoked")
    if record.expires_at <= now:
        raise InvalidToken("the personal access token has expired")
    if record.last_used_at is None or now - record.last_used_at >= _TOUCH_EVERY:
        async with uow(write=True) as work:
            await work.tenant(tenant_id).tokens().touch_pat(record.id, now)
            await work.commit()
    return record


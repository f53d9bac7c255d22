"""Identity's ports: users of a tenant, password hashing, refresh and personal tokens (SPEC §9)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.identity.oauth import AuthorizationCode, DeviceCode, OAuthClient
from core.identity.scopes import Scope
from core.licensing import LastUse
from core.tenancy import User

__all__ = [
    "AppGrant",
    "LastUse",
    "OAuthStore",
    "OneTimeCodes",
    "PasswordHasher",
    "PersonalTokenRecord",
    "RefreshTokenRecord",
    "SecondFactorRecord",
    "SecondFactorStore",
    "TokenRepository",
    "UserRepository",
]


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def burn(self, password: str) -> None:
        """Spend one verification's time, so unknown accounts answer as slowly as known ones."""
        ...


class UserRepository(Protocol):
    """One tenant's users; every query filters on that tenant."""

    async def get(self, user_id: str) -> User | None: ...

    async def by_email(self, email: str) -> User | None: ...

    async def by_person(self, person_id: str) -> User | None: ...

    async def password_hash(self, user_id: str) -> str | None: ...

    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...

    async def list(self, *, after: str = "", limit: int = 100) -> builtins.list[User]: ...

    async def add(self, user: User, password_hash: str | None, at: datetime) -> None: ...

    async def save(self, user: User) -> None: ...

    async def save_profile(self, user: User) -> None:
        """Store the user's name and reading preferences (locale, time format, week start)."""
        ...

    async def set_active(self, user_id: str, active: bool, at: datetime) -> None:
        """Deactivate the user (``at``) or make them active again."""
        ...

    async def touch(self, user_id: str, at: datetime) -> None: ...

    async def recent(self, since: datetime) -> builtins.list[LastUse]:
        """The users who used the product at or after ``since``, with their last use."""
        ...


@dataclass(frozen=True, slots=True)
class RefreshTokenRecord:
    """One refresh token of a family; only the hash of its secret is kept."""

    id: str
    tenant_id: str
    user_id: str
    family_id: str
    token_hash: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    #: The OAuth app the family was granted to (``core.identity.oauth``); None: a sign-in.
    client_id: str | None = None
    #: The scopes consented to for that app; None: everything (a sign-in).
    scopes: frozenset[Scope] | None = None
    #: Where the request that issued this token came from (the Apps page's "from where").
    address: str | None = None


@dataclass(frozen=True, slots=True)
class AppGrant:
    """One OAuth app's live grant to a user: a refresh-token family with a client."""

    family_id: str
    client_id: str
    scopes: frozenset[Scope] | None
    created_at: datetime
    last_used_at: datetime
    address: str | None


@dataclass(frozen=True, slots=True)
class PersonalTokenRecord:
    """A named personal access token; only the hash of its secret is kept."""

    id: str
    tenant_id: str
    user_id: str
    name: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    #: What the token may be used for; None: everything its user may do (``core.identity.scopes``).
    scopes: frozenset[Scope] | None = None


class TokenRepository(Protocol):
    """One tenant's tokens; every query filters on that tenant."""

    tenant_id: str

    async def add_refresh(self, record: RefreshTokenRecord) -> None: ...

    async def refresh_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshTokenRecord | None: ...

    async def mark_refresh_used(self, token_id: str, at: datetime) -> None: ...

    async def revoke_family(self, user_id: str, family_id: str, at: datetime) -> int:
        """Revoke every token of the user's family that is not revoked yet; how many were.

        The user's cached sign-in state is forgotten after the commit, so that every
        process refuses the family's access tokens on their next request."""
        ...

    async def revoke_user(self, user_id: str, at: datetime) -> int:
        """Revoke every live refresh token and personal access token of the user (their
        deactivation: reactivating them later revives none); how many were. As
        :meth:`revoke_family`, the user's cached sign-in state is forgotten."""
        ...

    async def family_revoked(self, user_id: str, family_id: str) -> bool:
        """Whether the user's family has been revoked."""
        ...

    async def app_grants(self, user_id: str) -> list[AppGrant]:
        """The user's live OAuth grants (families with a client that are not revoked)."""
        ...

    async def app_families(self, user_id: str) -> list[str]:
        """The ids of the user's live OAuth grants' families."""
        ...

    async def revoke_client(self, client_id: str, at: datetime) -> int:
        """Revoke every live family of this tenant granted to ``client_id`` (the app was
        disabled); how many tokens were. Each user's cached sign-in state is forgotten."""
        ...

    async def add_pat(self, record: PersonalTokenRecord) -> None: ...

    async def pat_by_hash(self, token_hash: str) -> PersonalTokenRecord | None: ...

    async def pats(self, user_id: str, *, after: str = "", limit: int = 50) -> list[PersonalTokenRecord]:
        """The user's tokens that are not revoked, oldest first, after the cursor ``after`` (an id)."""
        ...

    async def revoke_pat(self, user_id: str, pat_id: str, at: datetime) -> bool:
        """Revoke one of the user's tokens; False when the user has no such live token."""
        ...

    async def touch_pat(self, pat_id: str, at: datetime) -> None: ...


class OneTimeCodes(Protocol):
    """Time-based one-time codes (RFC 6238) and the sealing of their shared secrets."""

    def new_secret(self) -> str:
        """A fresh base32 secret for an authenticator app."""
        ...

    def uri(self, secret: str, *, account: str, issuer: str) -> str:
        """The ``otpauth://`` URI an authenticator app reads (as text or a QR code)."""
        ...

    def code_at(self, secret: str, now: datetime) -> str:
        """The code an authenticator app shows at ``now`` (the demo prints it)."""
        ...

    def matching_step(self, secret: str, code: str, now: datetime) -> int | None:
        """The time step ``code`` is right for at ``now`` (one step of drift allowed), or None."""
        ...

    def seal(self, owner_id: str, secret: str) -> str:
        """The secret encrypted for storage, bound to its owner's id."""
        ...

    def unseal(self, owner_id: str, sealed: str) -> str: ...


@dataclass(frozen=True, slots=True)
class SecondFactorRecord:
    """An account's second factor: the sealed secret, confirmed or still being enrolled."""

    sealed_secret: str
    confirmed_at: datetime | None
    #: The last time step a code was accepted for: a code is good once (RFC 6238 §5.2).
    last_step: int | None


class SecondFactorStore(Protocol):
    """Second factors of one realm's accounts (operators, or one tenant's users)."""

    async def get(self, owner_id: str) -> SecondFactorRecord | None: ...

    async def start(self, owner_id: str, sealed_secret: str) -> None:
        """Keep a new, unconfirmed secret (replacing an unconfirmed one)."""
        ...

    async def confirm(
        self, owner_id: str, at: datetime, step: int | None, recovery_hashes: list[str]
    ) -> None:
        """The secret is in use from now on, with these recovery codes (replacing any old ones)."""
        ...

    async def use_step(self, owner_id: str, step: int) -> bool:
        """Accept a code of ``step`` once: False when a code of this or a later step was used."""
        ...

    async def use_recovery(self, owner_id: str, code_hash: str, at: datetime) -> bool:
        """Spend an unused recovery code; False when there is none with this hash."""
        ...

    async def recovery_left(self, owner_id: str) -> int: ...

    async def remove(self, owner_id: str) -> None:
        """No second factor any more: the secret and the recovery codes are deleted."""
        ...


class OAuthStore(Protocol):
    """Registered OAuth clients, authorization codes and device codes (``core.identity.oauth``).

    Not tenant-scoped as a whole: a first-party client serves every tenant and a device code
    learns its tenant only when a user confirms it; every method says which tenant it means.
    """

    async def add_client(self, client: OAuthClient) -> None: ...

    async def client(self, client_id: str) -> OAuthClient | None: ...

    async def tenant_clients(self, tenant_id: str) -> list[OAuthClient]:
        """The clients registered by ``tenant_id``'s admins, oldest first."""
        ...

    async def set_client_disabled(self, tenant_id: str, client_id: str, disabled: bool) -> bool:
        """Disable or enable one of ``tenant_id``'s clients; False when it has no such client."""
        ...

    async def add_code(self, code: AuthorizationCode) -> None: ...

    async def take_code(self, code_hash: str, at: datetime) -> AuthorizationCode | None:
        """The code, marked used by this call if it was unused (``used_at`` of the result is
        then None); a code used before comes back with its ``used_at``."""
        ...

    async def bind_code(self, code_hash: str, family_id: str) -> None:
        """Record the grant a used code's tokens started."""
        ...

    async def add_device(self, code: DeviceCode) -> None: ...

    async def device(self, device_code_hash: str) -> DeviceCode | None: ...

    async def device_by_user_code(self, user_code: str) -> DeviceCode | None: ...

    async def polled(self, device_code_hash: str, at: datetime) -> None: ...

    async def decide_device(
        self, user_code: str, tenant_id: str, user_id: str, approved: bool, at: datetime
    ) -> bool:
        """Record a user's answer to a live, unanswered code; False when there is none."""
        ...

    async def take_device(self, device_code_hash: str, at: datetime) -> bool:
        """Mark an approved code used; False when it was used already."""
        ...

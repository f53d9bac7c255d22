"""Ports: what the core needs from the outside world, as protocols.

Services take these as arguments; ``plugins/`` implements them. Repositories
that touch tenant data can only be had through :meth:`UnitOfWork.tenant`, so a
query without a tenant cannot be written by accident.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from .licensing.subscription import Subscription
from .tenancy import Enterprise, Operator, Person, Tenant, User

__all__ = [
    "Directory",
    "GenerationCache",
    "PasswordHasher",
    "PersonalTokenRecord",
    "RefreshTokenRecord",
    "TenantScope",
    "TokenRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
]


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def burn(self, password: str) -> None:
        """Spend one verification's time, so unknown accounts answer as slowly as known ones."""
        ...


class Directory(Protocol):
    """Lookups that cross tenants by design: sign-in, signup, the operator console."""

    async def tenant_by_slug(self, slug: str) -> Tenant | None: ...

    async def tenant_by_id(self, tenant_id: str) -> Tenant | None: ...

    async def tenants(self, *, search: str = "", after: str = "", limit: int = 50) -> list[Tenant]:
        ...

    async def tenants_of_enterprise(self, enterprise_id: str) -> list[Tenant]: ...

    async def add_enterprise(self, enterprise: Enterprise) -> None: ...

    async def add_subscription(
        self, sub_id: str, enterprise_id: str, scope: str, sub: Subscription, at: datetime
    ) -> None: ...

    async def add_tenant(self, tenant: Tenant) -> None: ...

    async def save_tenant(self, tenant: Tenant) -> None: ...

    async def person_by_email(self, email: str) -> Person | None: ...

    async def add_person(self, person: Person, created_at: datetime) -> None: ...

    async def operator_by_email(self, email: str) -> tuple[Operator, str] | None:
        """The operator and their password hash."""
        ...

    async def operator_by_id(self, operator_id: str) -> Operator | None: ...

    async def add_operator(self, operator: Operator, password_hash: str, at: datetime) -> None:
        ...

    async def audit(
        self, tenant_id: str | None, actor: str, action: str, subject: str, detail: dict[str, Any],
        at: datetime,
    ) -> None: ...


class TenantScope(Protocol):
    """Every repository of one tenant's data; built only from a tenant id."""

    tenant_id: str

    async def user(self, user_id: str) -> User | None: ...

    async def user_by_email(self, email: str) -> User | None: ...

    async def user_by_person(self, person_id: str) -> User | None: ...

    async def password_hash(self, user_id: str) -> str | None: ...

    async def users(self, *, after: str = "", limit: int = 100) -> list[User]: ...

    async def add_user(self, user: User, password_hash: str | None, at: datetime) -> None: ...

    async def save_user(self, user: User) -> None: ...

    async def touch_user(self, user_id: str, at: datetime) -> None: ...

    async def audit(
        self, actor: str, action: str, subject: str, detail: dict[str, Any], at: datetime
    ) -> None: ...

    async def subscription_id(self) -> str: ...

    async def subscription(self, *, for_update: bool = False) -> tuple[str, Subscription]:
        """The tenant's (possibly enterprise-wide) subscription; ``for_update`` locks it."""
        ...

    async def save_subscription(self, sub_id: str, sub: Subscription, at: datetime) -> None: ...

    async def is_licensed(self, person_id: str) -> bool: ...

    async def seats_taken(self) -> int: ...

    async def licensed_person_ids(self) -> set[str]: ...

    async def assign_seat(self, person_id: str, by: str, at: datetime) -> None: ...

    async def release_seat(self, person_id: str) -> bool:
        """Free the person's seat; False when they held none."""
        ...

    def tokens(self) -> TokenRepository:
        """This tenant's refresh tokens and personal access tokens."""
        ...


class UnitOfWork(Protocol):
    """One transaction: nothing is kept unless :meth:`commit` is called."""

    directory: Directory

    def tenant(self, tenant_id: str) -> TenantScope: ...

    async def commit(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = False) -> UnitOfWork:
        """A new unit of work; ``write=True`` takes the write lock up front on SQLite."""
        ...


# Tokens (SPEC §9) ------------------------------------------------------------------------


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


class TokenRepository(Protocol):
    """One tenant's tokens; every query filters on that tenant."""

    tenant_id: str

    async def add_refresh(self, record: RefreshTokenRecord) -> None: ...

    async def refresh_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshTokenRecord | None: ...

    async def mark_refresh_used(self, token_id: str, at: datetime) -> None: ...

    async def revoke_family(self, family_id: str, at: datetime) -> int:
        """Revoke every token of the family that is not revoked yet; how many were."""
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


# Caching -----------------------------------------------------------------------------------


class GenerationCache(Protocol):
    """Values stored under the current generations of some scopes.

    A scope names what a value was computed from (``t:<tenant id>``, ``s:<subscription
    id>``, ``*`` for everything). :meth:`bump` moves a scope's generation, so every value
    stored under the old one is never returned again.
    """

    async def get(self, key: str, scopes: tuple[str, ...]) -> tuple[dict[str, Any] | None, str]:
        """The value under ``key`` if none of ``scopes`` moved since it was stored, and the
        stamp (the scopes' generations now) to :meth:`put` a freshly computed value with."""
        ...

    async def put(self, key: str, stamp: str, value: dict[str, Any], ttl_seconds: int) -> None: ...

    async def bump(self, scopes: Iterable[str]) -> None: ...

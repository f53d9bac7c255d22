"""Identity's ports: users of a tenant, password hashing, refresh and personal tokens (SPEC §9)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.licensing import LastUse
from core.tenancy import User

__all__ = [
    "LastUse",
    "PasswordHasher",
    "PersonalTokenRecord",
    "RefreshTokenRecord",
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

    async def revoke_family(self, user_id: str, family_id: str, at: datetime) -> int:
        """Revoke every token of the user's family that is not revoked yet; how many were.

        The user's cached sign-in state is forgotten after the commit, so that every
        process refuses the family's access tokens on their next request."""
        ...

    async def family_revoked(self, user_id: str, family_id: str) -> bool:
        """Whether the user's family has been revoked."""
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

"""Ports: what the core needs from the outside world, as protocols.

Services take these as arguments; ``plugins/`` implements them. Repositories
that touch tenant data can only be had through :meth:`UnitOfWork.tenant`, so a
query without a tenant cannot be written by accident.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from .licensing.subscription import Subscription
from .tenancy import Enterprise, Operator, Person, Tenant, User

__all__ = [
    "Directory",
    "PasswordHasher",
    "TenantScope",
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



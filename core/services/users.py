"""User management (SPEC §5, §6): adding people to a tenant and changing their flags."""

from __future__ import annotations

from core.clock import Clock
from core.errors import Conflict, ValidationFailed
from core.ids import new_id
from core.licensing.roles import Role
from core.ports import PasswordHasher, UnitOfWorkFactory
from core.tenancy import Person, User, normalise_email

from .identity import check_password

__all__ = ["add_user", "parse_role"]


def parse_role(value: str, *, field: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationFailed(f"unknown role {value!r}; one of: {allowed}", field=field) from None


async def add_user(
    uow: UnitOfWorkFactory,
    hasher: PasswordHasher,
    clock: Clock,
    *,
    tenant_id: str,
    actor: str,
    email: str,
    name: str,
    password: str | None = None,
    role: str | None = None,
    collection_admin: bool = False,
    approval_manager: bool = False,
) -> User:
    """Add a person to the tenant; ``role`` None gives them the tenant's default role."""
    address = normalise_email(email)
    if role is not None:
        parse_role(role)
    password_hash = hasher.hash(check_password(password)) if password else None
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant_id)
        if await scope.user_by_email(address):
            raise Conflict(f"{address} is already a user of this tenant", field="email")
        person = await work.directory.person_by_email(address)
        if person is None:
            person = Person(id=new_id(), email=address, name=name.strip() or address)
            await work.directory.add_person(person, now)
        user = User(
            id=new_id(),
            tenant_id=tenant_id,
            person_id=person.id,
            email=person.email,
            name=person.name,
            role=role,
            collection_admin=collection_admin,
            approval_manager=approval_manager,
            last_used_at=None,
        )
        await scope.add_user(user, password_hash, now)
        await scope.audit(actor, "user.added", address, {"role": role}, now)
        await work.commit()
    return user

"""Sign-in for tenant users and operators, and operator accounts (SPEC §1, §9)."""

from __future__ import annotations

from core.clock import Clock
from core.errors import Conflict, InvalidCredentials, ValidationFailed
from core.identity.ports import PasswordHasher
from core.ids import new_id
from core.tenancy import Operator, Tenant, User, normalise_email
from core.unit_of_work import UnitOfWorkFactory

__all__ = ["authenticate_operator", "authenticate_user", "check_password", "create_operator"]

# One message for every failure, so a caller cannot probe which tenants or e-mails exist.
_BAD_LOGIN = "The tenant, e-mail or password is not right."


def check_password(password: str, *, field: str = "password") -> str:
    """At least 8 characters; long passphrases welcome (Argon2 takes any length)."""
    if len(password) < 8:
        raise ValidationFailed("a password needs at least 8 characters", field=field)
    if len(password) > 1024:
        raise ValidationFailed("a password may have at most 1024 characters", field=field)
    return password


async def authenticate_user(
    uow: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock, *,
    tenant_slug: str, email: str, password: str,
) -> tuple[Tenant, User]:
    try:
        address = normalise_email(email)
    except ValidationFailed:
        hasher.burn(password)
        raise InvalidCredentials(_BAD_LOGIN) from None
    async with uow() as work:
        tenant = await work.directory.tenant_by_slug(tenant_slug.strip().lower())
        scope = work.tenant(tenant.id) if tenant else None
        user = await scope.users().by_email(address) if scope else None
        stored = await scope.users().password_hash(user.id) if scope and user else None
    if tenant is None or user is None or stored is None:
        hasher.burn(password)
        raise InvalidCredentials(_BAD_LOGIN)
    if not hasher.verify(stored, password):
        raise InvalidCredentials(_BAD_LOGIN)
    return tenant, user


async def create_operator(
    uow: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock, *,
    email: str, password: str, name: str = "",
) -> Operator:
    address = normalise_email(email)
    check_password(password)
    operator = Operator(id=new_id(), email=address, name=name or address.split("@")[0])
    async with uow(write=True) as work:
        if await work.directory.operator_by_email(address):
            raise Conflict(f"an operator with e-mail {address} already exists")
        await work.directory.add_operator(operator, hasher.hash(password), clock.now())
        await work.directory.audit(None, f"cli:{address}", "operator.created", address, {}, clock.now())
        await work.commit()
    return operator


async def authenticate_operator(
    uow: UnitOfWorkFactory, hasher: PasswordHasher, *, email: str, password: str
) -> Operator:
    try:
        address = normalise_email(email)
    except ValidationFailed:
        hasher.burn(password)
        raise InvalidCredentials("The e-mail or password is not right.") from None
    async with uow() as work:
        found = await work.directory.operator_by_email(address)
    if found is None:
        hasher.burn(password)
        raise InvalidCredentials("The e-mail or password is not right.")
    if not hasher.verify(found.password_hash, password):
        raise InvalidCredentials("The e-mail or password is not right.")
    return found.operator

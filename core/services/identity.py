"""Sign-in for tenant users and operators, and operator accounts (SPEC §1, §9)."""

from __future__ import annotations

from typing import Any

from core.clock import Clock
from core.errors import Conflict, InvalidCredentials, ValidationFailed
from core.identity.ports import OneTimeCodes, PasswordHasher
from core.ids import new_id
from core.tenancy import Operator, Tenant, User, normalise_email
from core.unit_of_work import UnitOfWorkFactory

from .audit import actor_of
from .second_factor import CodeNeeded, Holder, check_code

__all__ = ["authenticate_operator", "authenticate_user", "check_password", "create_operator"]

# One message for every failure, so a caller cannot probe which tenants or e-mails exist.
_BAD_LOGIN = "The tenant, e-mail or password is not right."
_BAD_OPERATOR_LOGIN = "The e-mail or password is not right."


def check_password(password: str, *, field: str = "password") -> str:
    """At least 8 characters; long passphrases welcome (Argon2 takes any length)."""
    if len(password) < 8:
        raise ValidationFailed("a password needs at least 8 characters", field=field)
    if len(password) > 1024:
        raise ValidationFailed("a password may have at most 1024 characters", field=field)
    return password


async def _audit(
    uow: UnitOfWorkFactory, clock: Clock, tenant_id: str | None, actor: str, action: str,
    subject: str, detail: dict[str, Any], address: str | None,
) -> None:
    """One security event in a unit of work of its own: a refusal is recorded, then raised."""
    async with uow(write=True) as work:
        await work.directory.audit(
            tenant_id, actor, action, subject[:200], detail, clock.now(), address=address
        )
        await work.commit()


async def _second_factor(
    uow: UnitOfWorkFactory, clock: Clock, holder: Holder, codes: OneTimeCodes | None, code: str,
    *, failed: str, address: str | None,
) -> dict[str, Any]:
    """The sign-in's audit detail once ``code`` proves the factor; else the refusal.

    A missing code is :class:`CodeNeeded` (it says the password was right, so it is said
    only after the password was checked) and is not recorded; a wrong one is.
    """
    if not code.strip() or codes is None:
        raise CodeNeeded("Enter the code from your authenticator app, or a recovery code.")
    async with uow(write=True) as work:
        how = await check_code(holder.store(work), codes, holder.id, code, clock.now())
        await work.commit()
    if how is None:
        await _audit(
            uow, clock, holder.tenant_id, holder.actor, failed, holder.email, {"reason": "code"}, address
        )
        raise InvalidCredentials("The code is not right, or was used already.")
    return {"second_factor": how}


async def authenticate_user(
    uow: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock, *,
    tenant_slug: str, email: str, password: str, address: str | None = None,
    codes: OneTimeCodes | None = None, code: str = "",
) -> tuple[Tenant, User]:
    """The tenant and user these credentials are, recording the sign-in or the failure.

    A failure is recorded under the tenant when the tenant exists (unknown e-mails too,
    as the e-mail typed) and installation-wide otherwise; the caller learns only "no".
    A user with a second factor also needs ``code`` (as :func:`authenticate_operator`).
    """
    slug = tenant_slug.strip().lower()
    typed = email.strip().lower()
    try:
        login: str | None = normalise_email(email)
    except ValidationFailed:
        login = None
    async with uow() as work:
        tenant = await work.directory.tenant_by_slug(slug)
        scope = work.tenant(tenant.id) if tenant else None
        user = await scope.users().by_email(login) if scope and login else None
        stored = await scope.users().password_hash(user.id) if scope and user else None
    if tenant is None or user is None or stored is None:
        hasher.burn(password)
        detail: dict[str, Any] = {"reason": "unknown_account"}
        if tenant is None:
            detail = {"reason": "unknown_tenant", "tenant": slug[:64]}
        await _audit(
            uow, clock, tenant.id if tenant else None, "unknown", "signin.failed", typed, detail, address
        )
        raise InvalidCredentials(_BAD_LOGIN)
    verified = hasher.verify(stored, password)
    if not verified or not user.active:
        # A deactivated user is told no more than a wrong password would tell them.
        await _audit(
            uow, clock, tenant.id, actor_of(user), "signin.failed", user.email,
            {"reason": "deactivated" if verified else "password"}, address,
        )
        raise InvalidCredentials(_BAD_LOGIN)
    signed_in: dict[str, Any] = {}
    if user.second_factor:
        signed_in = await _second_factor(
            uow, clock, Holder.of(user), codes, code, failed="signin.failed", address=address
        )
    await _audit(uow, clock, tenant.id, actor_of(user), "signin", user.email, signed_in, address)
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
    uow: UnitOfWorkFactory, hasher: PasswordHasher, *, email: str, password: str,
    clock: Clock, address: str | None = None, codes: OneTimeCodes | None = None, code: str = "",
) -> Operator:
    """The operator these credentials are; sign-ins and failures go to the installation's trail.

    An operator with a second factor also needs ``code``: from the authenticator app or
    one of the recovery codes (each good once). Without one the answer is
    :class:`CodeNeeded`, which says the password was right, so it is given only then.
    """
    typed = email.strip().lower()
    try:
        login: str | None = normalise_email(email)
    except ValidationFailed:
        login = None
    found = None
    if login is not None:
        async with uow() as work:
            found = await work.directory.operator_by_email(login)
    if found is None:
        hasher.burn(password)
        await _audit(
            uow, clock, None, "unknown", "operator.signin.failed", typed,
            {"reason": "unknown_account"}, address,
        )
        raise InvalidCredentials(_BAD_OPERATOR_LOGIN)
    operator = found.operator
    actor = actor_of(operator)
    if not hasher.verify(found.password_hash, password):
        await _audit(
            uow, clock, None, actor, "operator.signin.failed", operator.email, {"reason": "password"}, address
        )
        raise InvalidCredentials(_BAD_OPERATOR_LOGIN)
    detail: dict[str, Any] = {}
    if operator.second_factor:
        detail = await _second_factor(
            uow, clock, Holder.of(operator), codes, code, failed="operator.signin.failed", address=address
        )
    await _audit(uow, clock, None, actor, "operator.signin", operator.email, detail, address)
    return operator

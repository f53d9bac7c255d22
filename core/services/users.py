"""User management (SPEC §5, §6): adding people to a tenant and changing their flags.

A batch of users' roles and the tenant's default role are :mod:`core.services.user_roles`;
deactivating a user is :mod:`core.services.user_deactivation`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from core.clock import Clock
from core.errors import Conflict, NotFound, SeatLimit, UserInactive
from core.identity.ports import PasswordHasher
from core.ids import new_id
from core.licensing.administrators import is_tenant_administrator
from core.licensing.seats import SeatPool
from core.money import Money
from core.tenancy import Person, Tenant, User, normalise_email
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .audit import actor_of
from .identity import check_password
from .rates import accept_rate
from .user_deactivation import deactivate_in_scope
from .user_roles import ensure_administrators_after, parse_role

__all__ = [
    "add_user",
    "list_users",
    "update_user",
]


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
    address: str | None = None,
) -> User:
    """Add a person to the tenant; ``role`` None gives them the tenant's default role."""
    login = normalise_email(email)
    if role is not None:
        parse_role(role)
    password_hash = hasher.hash(check_password(password)) if password else None
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant_id)
        if await scope.users().by_email(login):
            raise Conflict(f"{login} is already a user of this tenant", field="email")
        person = await work.directory.person_by_email(login)
        if person is None:
            person = Person(id=new_id(), email=login, name=name.strip() or login)
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
        await scope.users().add(user, password_hash, now)
        await scope.audit().record(
            actor, "user.added", login, {"role": role, "collection_admin": collection_admin}, now,
            address=address,
        )
        await work.commit()
    return user


async def update_user(
    uow: UnitOfWorkFactory,
    clock: Clock,
    *,
    tenant: Tenant,
    actor: User,
    user_id: str,
    role: str | None = None,
    licensed: bool | None = None,
    collection_admin: bool | None = None,
    approval_manager: bool | None = None,
    address: str | None = None,
    set_hourly_rate: bool = False,
    hourly_rate: Money | None = None,
    active: bool | None = None,
) -> tuple[User, bool]:
    """Change a user's role, licence or flags (User Management); returns (user, licensed).

    With ``set_hourly_rate`` the user's hourly rate becomes ``hourly_rate`` (``None``
    removes it) in the same transaction, so a refused rate changes nothing else either.
    ``active`` False deactivates the user (as :func:`deactivate_user`); True reactivates a
    deactivated one, which takes a seat again (409 ``seat_limit`` when none is free).

    Licensing takes a seat from the pool under the subscription's lock, so licensed
    users never exceed seats however many admins click at once (SPEC §5). A licence
    is the person's and cannot be moved to someone else: unlicense, then license.
    """
    now = clock.now()
    who = actor_of(actor)
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        user = await scope.users().get(user_id)
        if user is None:
            raise NotFound("no such user in this tenant")
        if active is False and user.active:
            await deactivate_in_scope(work.directory, scope, tenant, actor, user, now, address)
            await work.commit()
            return replace(user, active=False), False
        if set_hourly_rate:
            await _set_rate(scope, user, hourly_rate, who, now, address)
        reactivating = active is True and not user.active
        if reactivating:
            await scope.users().set_active(user.id, True, now)
            await scope.audit().record(who, "user.reactivated", user.email, {}, now, address=address)
            user = replace(user, active=True)
            licensed = True if licensed is None else licensed
        elif not user.active and licensed:
            raise UserInactive("a deactivated user holds no seat; reactivate them first")
        changed = user
        if role is not None:
            changed = replace(changed, role=parse_role(role).value)
        if collection_admin is not None:
            changed = replace(changed, collection_admin=collection_admin)
        if approval_manager is not None:
            changed = replace(changed, approval_manager=approval_manager)
        default_role = (await work.directory.tenant_by_id(tenant.id) or tenant).default_role
        if is_tenant_administrator(user, default_role) and not is_tenant_administrator(
            changed, default_role
        ):
            await ensure_administrators_after(scope, default_role, changed)
        if changed != user:
            await scope.users().save(changed)
            await scope.audit().record(
                who,
                "user.changed",
                user.email,
                {
                    "role": changed.role,
                    "collection_admin": changed.collection_admin,
                    "approval_manager": changed.approval_manager,
                    "before": {
                        "role": user.role,
                        "collection_admin": user.collection_admin,
                        "approval_manager": user.approval_manager,
                    },
                },
                now,
                address=address,
            )
        is_licensed = await scope.seats().is_licensed(user.person_id)
        if licensed is True and not is_licensed:
            sub = (await scope.subscriptions().get(for_update=True)).subscription
            pool = SeatPool(seats=sub.seats, licensed=await scope.seats().taken())
            if not pool.can_license_one():
                raise SeatLimit(
                    f"All {sub.seats} seats are taken; unlicense someone or buy more seats.",
                    seats=sub.seats,
                )
            await scope.seats().assign(user.person_id, who, now)
            await scope.audit().record(
                who, "seat.assigned", user.email, {"how": "admin"}, now, address=address
            )
            is_licensed = True
        elif licensed is False and is_licensed:
            await scope.seats().release(user.person_id)
            await scope.audit().record(
                who, "seat.released", user.email, {"how": "admin"}, now, address=address
            )
            is_licensed = False
        await work.commit()
    return changed, is_licensed


async def _set_rate(
    scope: TenantScope, user: User, rate: Money | None, who: str, now: datetime, address: str | None
) -> None:
    rates = scope.rates()
    before = await rates.user_rate(user.id)
    if rate is not None:
        rate = await accept_rate(rates, rate)
    if rate == before:
        return
    await rates.set_user_rate(user.id, rate)
    await scope.audit().record(
        who, "user.rate_changed", user.email,
        {"hourly_rate": rate.as_dict() if rate else None, "before": before.as_dict() if before else None},
        now, address=address,
    )


async def list_users(
    uow: UnitOfWorkFactory, *, tenant: Tenant, after: str = "", limit: int = 100
) -> tuple[list[tuple[User, bool]], int, int | None]:
    """A page of users with their licence, the seats taken and the seats bought (None: unlimited)."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        users = await scope.users().list(after=after, limit=limit)
        licensed = await scope.seats().holders()
        sub = (await scope.subscriptions().get()).subscription
        taken = len(licensed)
    return [(user, user.person_id in licensed) for user in users], taken, sub.seats

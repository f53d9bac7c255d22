"""User management (SPEC §5, §6): adding people to a tenant and changing their flags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from core.clock import Clock
from core.errors import Conflict, DeactivateSelf, NotFound, SeatLimit, UserInactive, ValidationFailed
from core.identity.ports import PasswordHasher
from core.ids import new_id
from core.licensing.administrators import ensure_an_administrator_remains, is_tenant_administrator
from core.licensing.roles import Role
from core.licensing.seats import SeatPool
from core.money import Money
from core.tenancy import Person, Tenant, User, normalise_email
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .audit import actor_of
from .identity import check_password
from .rates import accept_rate

__all__ = [
    "add_user",
    "deactivate_user",
    "list_users",
    "parse_role",
    "set_default_role",
    "set_roles",
    "update_user",
]


#: The most users one ``POST /users/roles`` may name.
MAX_ROLE_BATCH = 1000


def parse_role(value: str, *, field: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationFailed(f"unknown role {value!r}; one of: {allowed}", field=field) from None


async def _ensure_administrators_after(
    scope: TenantScope, default_role: str, changed: User | None = None, *more: User
) -> None:
    """Refuse a change that leaves the tenant no collection admin with the Administrator role.

    The subscription's row lock serialises such changes (SQLite's write lock does the same),
    so two admins demoting each other at once cannot both succeed.
    """
    await scope.subscriptions().get(for_update=True)
    users: list[User] = []
    after = ""
    while True:
        page = await scope.users().list(after=after, limit=500)
        users += page
        if len(page) < 500:
            break
        after = page[-1].id
    changes = {user.id: user for user in ((changed,) if changed is not None else ()) + more}
    users = [changes.get(user.id, user) for user in users]
    ensure_an_administrator_remains(users, default_role)


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
            await _deactivate(work.directory, scope, tenant, actor, user, now, address)
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
            await _ensure_administrators_after(scope, default_role, changed)
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


async def _deactivate(
    directory: Any, scope: TenantScope, tenant: Tenant, actor: User, user: User, now: datetime,
    address: str | None,
) -> None:
    """Deactivate ``user``: their worklogs stay, their seat is freed, their tokens refused."""
    if user.id == actor.id:
        raise DeactivateSelf("you cannot deactivate yourself")
    default_role = (await directory.tenant_by_id(tenant.id) or tenant).default_role
    await _ensure_administrators_after(scope, default_role, replace(user, active=False))
    who = actor_of(actor)
    await scope.users().set_active(user.id, False, now)
    # Refused while inactive anyway; revoked so that reactivating them revives no old token.
    revoked = await scope.tokens().revoke_user(user.id, now)
    if await scope.seats().is_licensed(user.person_id):
        await scope.seats().release(user.person_id)
        await scope.audit().record(who, "seat.released", user.email, {"how": "deactivated"}, now,
                                   address=address)
    await scope.audit().record(who, "user.deactivated", user.email, {"tokens_revoked": revoked}, now,
                               address=address)


async def deactivate_user(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, user_id: str,
    address: str | None = None,
) -> User:
    """``DELETE /users/{id}``: not yourself, not the last Administrator (409 both); a user
    deactivated already stays so (the answer is the same)."""
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        user = await scope.users().get(user_id)
        if user is None:
            raise NotFound("no such user in this tenant")
        if not user.active:
            return user
        await _deactivate(work.directory, scope, tenant, actor, user, now, address)
        await work.commit()
    return replace(user, active=False)


async def set_roles(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, user_ids: Sequence[str],
    role: str | None = None, licensed: bool | None = None, address: str | None = None,
) -> list[tuple[User, bool]]:
    """``POST /users/roles``: the role and/or licence of every user named, or of none.

    An unknown id (404) or a deactivated user to license (409 ``user_inactive``) names
    each offending id; licensing checks the seats for the whole batch at once (409
    ``seat_limit`` saying how many are needed and free); the last Administrator stays one.
    """
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        raise ValidationFailed("users names at least one user", field="users")
    if len(wanted) > MAX_ROLE_BATCH:
        raise ValidationFailed(f"a batch names at most {MAX_ROLE_BATCH} users", field="users")
    if role is None and licensed is None:
        raise ValidationFailed("set a role, a licence or both", field="role")
    chosen = parse_role(role).value if role is not None else None
    now = clock.now()
    who = actor_of(actor)
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        users = scope.users()
        found = {uid: await users.get(uid) for uid in wanted}
        missing = [{"index": i, "id": uid, "code": NotFound.code, "reason": "no such user in this tenant"}
                   for i, uid in enumerate(wanted) if found[uid] is None]
        if missing:
            raise NotFound(f"{len(missing)} user(s) do not exist; nothing changed", errors=missing)
        present = {uid: user for uid, user in found.items() if user is not None}
        inactive = [{"index": i, "id": uid, "code": "user_inactive", "reason": "the user is deactivated"}
                    for i, uid in enumerate(wanted) if licensed and not present[uid].active]
        if inactive:
            raise UserInactive(f"{len(inactive)} user(s) are deactivated; nothing changed", errors=inactive)
        changed = {uid: replace(u, role=chosen) if chosen is not None else u for uid, u in present.items()}
        default_role = (await work.directory.tenant_by_id(tenant.id) or tenant).default_role
        await _ensure_administrators_after(scope, default_role, None, *changed.values())
        seats = scope.seats()
        holders = await seats.holders()
        to_license = [u for u in changed.values() if licensed is True and u.person_id not in holders]
        to_release = [u for u in changed.values() if licensed is False and u.person_id in holders]
        if to_license:
            sub = (await scope.subscriptions().get(for_update=True)).subscription
            pool = SeatPool(seats=sub.seats, licensed=await seats.taken())
            free = pool.free_seats
            if free is not None and free < len(to_license):
                raise SeatLimit(
                    f"{len(to_license)} seats are needed and {free} of {sub.seats} are free; "
                    "nothing changed", seats=sub.seats, needed=len(to_license), free=free,
                )
        for uid in wanted:
            before, after = present[uid], changed[uid]
            if after != before:
                await users.save(after)
        for user in to_license:
            await seats.assign(user.person_id, who, now)
        for user in to_release:
            await seats.release(user.person_id)
        holders = await seats.holders()
        await scope.audit().record(
            who, "users.roles_set", tenant.id,
            {"count": len(wanted), "role": chosen, "licensed": licensed}, now, address=address,
        )
        await work.commit()
    return [(changed[uid], changed[uid].person_id in holders) for uid in wanted]


async def set_default_role(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, role: str,
    address: str | None = None,
) -> Tenant:
    """The role every user gets unless given another (SPEC §6; Team unless changed)."""
    chosen = parse_role(role)
    async with uow(write=True) as work:
        current = await work.directory.tenant_by_id(tenant.id)
        if current is None:
            raise NotFound("no such tenant")
        updated = replace(current, default_role=chosen.value)
        scope = work.tenant(tenant.id)
        if updated.default_role != current.default_role:
            # Collection admins without a role of their own follow the default.
            await _ensure_administrators_after(scope, updated.default_role)
        await work.directory.save_tenant(updated)
        await scope.audit().record(
            actor_of(actor), "tenant.default_role", chosen.value, {"before": current.default_role},
            clock.now(), address=address,
        )
        await work.commit()
    return updated


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

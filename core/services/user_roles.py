"""Users' roles (SPEC §5, §6): a batch of users' role and licence (``POST /users/roles``), the
tenant's default role, and the check every change of roles, flags or activity passes: the
tenant keeps a collection admin with the Administrator role."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from core.clock import Clock
from core.errors import NotFound, SeatLimit, UserInactive, ValidationFailed
from core.licensing.administrators import ensure_an_administrator_remains
from core.licensing.roles import Role
from core.licensing.seats import SeatPool
from core.tenancy import Tenant, User
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .audit import actor_of

__all__ = ["ensure_administrators_after", "parse_role", "set_default_role", "set_roles"]


#: The most users one ``POST /users/roles`` may name.
MAX_ROLE_BATCH = 1000


def parse_role(value: str, *, field: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationFailed(f"unknown role {value!r}; one of: {allowed}", field=field) from None


async def ensure_administrators_after(
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
        await ensure_administrators_after(scope, default_role, None, *changed.values())
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
            await ensure_administrators_after(scope, updated.default_role)
        await work.directory.save_tenant(updated)
        await scope.audit().record(
            actor_of(actor), "tenant.default_role", chosen.value, {"before": current.default_role},
            clock.now(), address=address,
        )
        await work.commit()
    return updated

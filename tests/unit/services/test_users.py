"""User management: adding people, their role, flags and licence (core.services.users,
core.services.user_roles)."""

from __future__ import annotations

import pytest

from core.clock import FixedClock
from core.errors import Conflict, NotFound, SeatLimit, ValidationFailed
from core.licensing.roles import Role
from core.services.user_roles import parse_role, set_default_role
from core.services.users import add_user, list_users, update_user
from core.tenancy import Tenant, User
from tests.fakes import FakePasswordHasher, FakeUnitOfWorkFactory

from .conftest import NOW, PASSWORD, Seed, active


@pytest.fixture
def tenant(seed: Seed) -> Tenant:
    return seed.tenant("acme", subscription=active(seats=2))


@pytest.fixture
def boss(seed: Seed, tenant: Tenant) -> User:
    return seed.admin(tenant, licensed=True)


def test_parses_every_role_and_refuses_others_listing_them() -> None:
    assert [parse_role(r.value) for r in Role] == list(Role)
    with pytest.raises(ValidationFailed, match="one of: ") as refused:
        parse_role("emperor", field="default_role")
    assert refused.value.field == "default_role"


# add_user ---------------------------------------------------------------------------------


async def test_adds_a_user_with_the_tenants_default_role_and_audits_it(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    user = await add_user(uow, hasher, clock, tenant_id=tenant.id, actor="user:x", email=" Cid@Acme.Test ",
                          name="Cid")
    assert (user.email, user.name, user.role, user.tenant_id) == ("cid@acme.test", "Cid", None, tenant.id)
    assert seed.store.users[tenant.id][user.id].password_hash is None
    [row] = seed.audit("user.added")
    assert (row.actor, row.subject, row.detail) == (
        "user:x", "cid@acme.test", {"role": None, "collection_admin": False}
    )


async def test_adds_a_user_with_a_role_flags_and_a_hashed_password(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    user = await add_user(uow, hasher, clock, tenant_id=tenant.id, actor="user:x", email="cid@acme.test",
                          name="Cid", password=PASSWORD, role="product", collection_admin=True)
    assert (user.role, user.collection_admin, user.approval_manager) == ("product", True, False)
    stored = seed.store.users[tenant.id][user.id].password_hash
    assert stored is not None and hasher.verify(stored, PASSWORD)


async def test_a_person_of_another_tenant_joins_as_the_same_person(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    elsewhere = seed.user(seed.tenant("other"), "cid@acme.test")
    user = await add_user(uow, hasher, clock, tenant_id=tenant.id, actor="user:x", email="cid@acme.test",
                          name="Another Name")
    assert user.person_id == elsewhere.person_id and user.name == elsewhere.name


async def test_refuses_an_email_that_is_already_a_user_of_the_tenant(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed, tenant: Tenant,
    boss: User,
) -> None:
    with pytest.raises(Conflict) as refused:
        await add_user(uow, hasher, clock, tenant_id=tenant.id, actor="user:x", email="BOSS@acme.test",
                       name="Again")
    assert refused.value.extra == {"field": "email"}
    assert len(seed.store.users[tenant.id]) == 1 and uow.commits == 0


@pytest.mark.parametrize(
    ("email", "password", "role"),
    [("nope", None, None), ("cid@acme.test", "short", None), ("cid@acme.test", None, "emperor")],
    ids=["bad email", "short password", "unknown role"],
)
async def test_refuses_bad_user_input_before_opening_a_transaction(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, tenant: Tenant,
    email: str, password: str | None, role: str | None,
) -> None:
    with pytest.raises(ValidationFailed):
        await add_user(uow, hasher, clock, tenant_id=tenant.id, actor="user:x", email=email, name="Cid",
                       password=password, role=role)
    assert uow.units == []


# update_user ------------------------------------------------------------------------------


async def test_changes_a_users_role_and_flags_and_audits_the_result(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    cid = seed.user(tenant, "cid@acme.test")
    changed, licensed = await update_user(uow, clock, tenant=tenant, actor=boss, user_id=cid.id,
                                          role="product", approval_manager=True, collection_admin=True)
    assert (changed.role, changed.approval_manager, changed.collection_admin, licensed) == (
        "product", True, True, False
    )
    assert seed.store.users[tenant.id][cid.id].user == changed
    [row] = seed.audit("user.changed")
    assert (row.actor, row.subject, row.at) == (f"user:{boss.id}", "cid@acme.test", NOW)
    assert row.detail == {
        "role": "product", "collection_admin": True, "approval_manager": True,
        "before": {"role": None, "collection_admin": False, "approval_manager": False},
    }


async def test_a_change_to_nothing_is_not_audited(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    cid = seed.user(tenant, "cid@acme.test", role="team")
    await update_user(uow, clock, tenant=tenant, actor=boss, user_id=cid.id, role="team")
    assert seed.actions() == []


async def test_refuses_an_unknown_user_or_role(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    with pytest.raises(NotFound):
        await update_user(uow, clock, tenant=tenant, actor=boss, user_id="nobody", role="team")
    with pytest.raises(ValidationFailed):
        await update_user(uow, clock, tenant=tenant, actor=boss, user_id=boss.id, role="emperor")
    assert uow.commits == 0


async def test_a_user_of_another_tenant_is_not_found(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    stranger = seed.user(seed.tenant("other"), "eve@other.test")
    with pytest.raises(NotFound):
        await update_user(uow, clock, tenant=tenant, actor=boss, user_id=stranger.id, role="none")


async def test_licenses_a_user_while_a_seat_is_free_and_audits_it(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    cid = seed.user(tenant, "cid@acme.test")
    _, licensed = await update_user(uow, clock, tenant=tenant, actor=boss, user_id=cid.id, licensed=True)
    assert licensed is True
    assert seed.holders(tenant) == {boss.person_id, cid.person_id}
    assert seed.store.seats[tenant.subscription_id][cid.person_id].assigned_by == f"user:{boss.id}"
    [row] = seed.audit("seat.assigned")
    assert (row.subject, row.detail) == ("cid@acme.test", {"how": "admin"})


async def test_refuses_a_licence_when_every_seat_is_taken_and_keeps_nothing_of_the_request(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    seed.user(tenant, "bob@acme.test", licensed=True)
    cid = seed.user(tenant, "cid@acme.test")
    with pytest.raises(SeatLimit) as refused:
        await update_user(uow, clock, tenant=tenant, actor=boss, user_id=cid.id, role="product",
                          licensed=True)
    assert refused.value.extra == {"seats": 2}
    assert cid.person_id not in seed.holders(tenant)
    # The role change of the same request is rolled back with it.
    assert seed.store.users[tenant.id][cid.id].user.role is None
    assert seed.actions() == [] and uow.commits == 0


async def test_licenses_anyone_during_a_trial(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("trialco")
    boss = seed.admin(tenant)
    users = [seed.user(tenant, f"u{i}@trialco.test") for i in range(5)]
    for user in users:
        await update_user(uow, clock, tenant=tenant, actor=boss, user_id=user.id, licensed=True)
    assert seed.holders(tenant) == {u.person_id for u in users}


async def test_licensing_a_licensed_user_changes_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    _, licensed = await update_user(uow, clock, tenant=tenant, actor=boss, user_id=boss.id, licensed=True)
    assert licensed is True and seed.actions() == []


async def test_unlicensing_frees_the_seat_at_once_and_is_audited(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    bob = seed.user(tenant, "bob@acme.test", licensed=True)
    cid = seed.user(tenant, "cid@acme.test")
    _, licensed = await update_user(uow, clock, tenant=tenant, actor=boss, user_id=bob.id, licensed=False)
    assert licensed is False
    assert [(r.subject, r.detail) for r in seed.audit("seat.released")] == [
        ("bob@acme.test", {"how": "admin"})
    ]
    _, licensed = await update_user(uow, clock, tenant=tenant, actor=boss, user_id=cid.id, licensed=True)
    assert licensed is True


async def test_unlicensing_someone_without_a_licence_changes_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    cid = seed.user(tenant, "cid@acme.test")
    _, licensed = await update_user(uow, clock, tenant=tenant, actor=boss, user_id=cid.id, licensed=False)
    assert licensed is False and seed.actions() == []


async def test_a_person_licensed_in_another_tenant_of_a_shared_pool_holds_one_seat(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    first = seed.tenant("first", subscription=active("ultimate", seats=20), scope="enterprise")
    second = seed.tenant("second", sharing=first)
    boss = seed.admin(second)
    seed.user(first, "cid@corp.test", licensed=True)
    cid_second = seed.user(second, "cid@corp.test")
    _, licensed = await update_user(uow, clock, tenant=second, actor=boss, user_id=cid_second.id,
                                    licensed=True)
    assert licensed is True and seed.holders(second) == {cid_second.person_id}
    assert seed.actions() == []


# set_default_role / list_users -----------------------------------------------------------


async def test_sets_the_tenants_default_role_and_audits_it(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    updated = await set_default_role(uow, clock, tenant=tenant, actor=boss, role="product")
    assert updated.default_role == "product" and seed.store.tenants[tenant.id] == updated
    [row] = seed.audit("tenant.default_role")
    assert (row.tenant_id, row.subject) == (tenant.id, "product")


async def test_refuses_an_unknown_default_role_or_a_tenant_that_is_gone(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    with pytest.raises(ValidationFailed):
        await set_default_role(uow, clock, tenant=tenant, actor=boss, role="emperor")
    del seed.store.tenants[tenant.id]
    with pytest.raises(NotFound):
        await set_default_role(uow, clock, tenant=tenant, actor=boss, role="team")
    assert uow.commits == 0


async def test_lists_users_a_page_at_a_time_with_their_licence_and_the_seats(
    uow: FakeUnitOfWorkFactory, seed: Seed, tenant: Tenant, boss: User
) -> None:
    others = [seed.user(tenant, f"u{i}@acme.test") for i in range(3)]
    first, taken, seats = await list_users(uow, tenant=tenant, limit=2)
    rest, _, _ = await list_users(uow, tenant=tenant, after=first[-1][0].id)
    listed = dict((user.id, licensed) for user, licensed in first + rest)
    assert listed == {boss.id: True} | {u.id: False for u in others}
    assert list(listed) == sorted(listed)
    assert (taken, seats) == (1, 2)


async def test_lists_no_seat_limit_during_a_trial(uow: FakeUnitOfWorkFactory, seed: Seed) -> None:
    tenant = seed.tenant("trialco")
    _, taken, seats = await list_users(uow, tenant=tenant)
    assert (taken, seats) == (0, None)


#: A valid address of 250 characters: e-mails may have 320, and so may audit subjects and names.
LONG_EMAIL = "a" * 240 + "@acme.test"


async def test_adds_a_user_whose_valid_email_is_longer_than_200_characters_or_refuses_it_by_validation(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    try:
        user = await add_user(uow, hasher, clock, tenant_id=tenant.id, actor="user:x", email=LONG_EMAIL,
                              name="Long")
    except ValidationFailed:
        return
    assert seed.store.users[tenant.id][user.id].user.email == LONG_EMAIL

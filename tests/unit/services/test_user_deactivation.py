"""Deactivating users, setting roles in bulk, and the "who may edit other people's time"
rule (issue #17) on the fakes (core.services.user_deactivation, core.services.user_roles,
core.services.users, core.services.editing_rule)."""

from __future__ import annotations

import pytest

from core.clock import FixedClock
from core.errors import DeactivateSelf, LastAdministrator, NotFound, SeatLimit, UserInactive, ValidationFailed
from core.licensing.editing import EditingRule, may_edit_others
from core.services.editing_rule import editing_rule, edits_others, set_editing_rule
from core.services.user_deactivation import deactivate_user
from core.services.user_roles import set_roles
from core.services.users import list_users, update_user
from core.tenancy import Tenant, User
from core.tracking import EVERYONE, NOBODY
from tests.fakes import FakeUnitOfWorkFactory

from .conftest import Seed, active


@pytest.fixture
def tenant(seed: Seed) -> Tenant:
    return seed.tenant("acme", subscription=active(seats=3))


@pytest.fixture
def boss(seed: Seed, tenant: Tenant) -> User:
    return seed.admin(tenant, licensed=True)


async def test_a_deactivated_user_keeps_no_seat_is_listed_inactive_and_comes_back_on_a_free_seat(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    ann = seed.user(tenant, "ann@acme.test", licensed=True)

    gone = await deactivate_user(uow, clock, tenant=tenant, actor=boss, user_id=ann.id)

    assert not gone.active
    assert ann.person_id not in seed.holders(tenant)
    rows, taken, _ = await list_users(uow, tenant=tenant)
    assert {(u.email, u.active, licensed) for u, licensed in rows} == {
        ("boss@acme.test", True, True), ("ann@acme.test", False, False),
    }
    assert taken == 1
    assert seed.actions()[-2:] == ["seat.released", "user.deactivated"]
    assert seed.audit("user.deactivated")[0].detail == {"tokens_revoked": 0}
    # Deactivating again changes nothing and says the same.
    assert not (await deactivate_user(uow, clock, tenant=tenant, actor=boss, user_id=ann.id)).active
    assert seed.actions().count("user.deactivated") == 1

    back, licensed = await update_user(uow, clock, tenant=tenant, actor=boss, user_id=ann.id, active=True)

    assert back.active and licensed
    assert ann.person_id in seed.holders(tenant)


async def test_reactivating_needs_a_free_seat(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    ann = seed.user(tenant, "ann@acme.test", licensed=True)
    await deactivate_user(uow, clock, tenant=tenant, actor=boss, user_id=ann.id)
    seed.user(tenant, "bob@acme.test", licensed=True)
    seed.user(tenant, "cid@acme.test", licensed=True)

    with pytest.raises(SeatLimit):
        await update_user(uow, clock, tenant=tenant, actor=boss, user_id=ann.id, active=True)

    assert not seed.store.users[tenant.id][ann.id].user.active


async def test_no_one_deactivates_themselves_or_the_last_administrator(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    """A collection admin without the Administrator role manages users too: they cannot
    deactivate the only Administrator."""
    keeper = seed.user(tenant, "keeper@acme.test", role="team", collection_admin=True)
    with pytest.raises(DeactivateSelf):
        await deactivate_user(uow, clock, tenant=tenant, actor=boss, user_id=boss.id)
    with pytest.raises(LastAdministrator):
        await deactivate_user(uow, clock, tenant=tenant, actor=keeper, user_id=boss.id)
    with pytest.raises(NotFound):
        await deactivate_user(uow, clock, tenant=tenant, actor=boss, user_id="nobody")
    assert seed.store.users[tenant.id][boss.id].user.active


async def test_roles_in_bulk_apply_to_all_or_none(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    users = [seed.user(tenant, f"u{n}@acme.test") for n in range(3)]
    ids = [u.id for u in users]

    with pytest.raises(NotFound) as missing:
        await set_roles(uow, clock, tenant=tenant, actor=boss, user_ids=[*ids, "nobody"], role="product")
    assert [(e["index"], e["id"]) for e in missing.value.extra["errors"]] == [(3, "nobody")]
    assert {seed.store.users[tenant.id][i].user.role for i in ids} == {None}

    with pytest.raises(SeatLimit) as full:  # 3 seats, the boss holds one: 2 free for 3
        await set_roles(uow, clock, tenant=tenant, actor=boss, user_ids=ids, role="product", licensed=True)
    assert (full.value.extra["needed"], full.value.extra["free"]) == (3, 2)
    assert "3 seats are needed and 2 of 3 are free" in full.value.detail
    assert seed.holders(tenant) == {boss.person_id}
    assert {seed.store.users[tenant.id][i].user.role for i in ids} == {None}

    done = await set_roles(uow, clock, tenant=tenant, actor=boss, user_ids=ids[:2], role="product",
                           licensed=True)

    assert [(u.role, licensed) for u, licensed in done] == [("product", True), ("product", True)]
    assert seed.actions().count("users.roles_set") == 1


async def test_roles_in_bulk_refuse_a_deactivated_user_to_license_and_the_last_administrators_demotion(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    ann = seed.user(tenant, "ann@acme.test")
    await deactivate_user(uow, clock, tenant=tenant, actor=boss, user_id=ann.id)
    with pytest.raises(UserInactive):
        await set_roles(uow, clock, tenant=tenant, actor=boss, user_ids=[ann.id], licensed=True)
    with pytest.raises(LastAdministrator):
        await set_roles(uow, clock, tenant=tenant, actor=boss, user_ids=[boss.id, ann.id], role="team")
    with pytest.raises(ValidationFailed):
        await set_roles(uow, clock, tenant=tenant, actor=boss, user_ids=[ann.id])


@pytest.mark.parametrize(
    ("rule", "allowed"),
    [
        (EditingRule.ADMINISTRATORS, {"administrator"}),
        (EditingRule.APPROVAL_MANAGERS, {"administrator", "manager"}),
        (EditingRule.PRODUCT, {"administrator", "manager", "product"}),
    ],
)
def test_who_may_edit_other_peoples_time_follows_the_tenants_rule(
    rule: EditingRule, allowed: set[str]
) -> None:
    people = {
        "administrator": ("administrator", False), "manager": ("team", True),
        "product": ("product", False), "team": ("team", False), "budget": ("budget", False),
    }
    assert {name for name, (role, manages) in people.items()
            if may_edit_others(rule, role=role, approves_owner=manages)} == allowed


async def test_the_editing_rule_defaults_to_administrators_and_is_read_by_the_one_decision(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, boss: User
) -> None:
    pat = seed.user(tenant, "pat@acme.test", role="product")
    assert await editing_rule(uow, tenant=tenant) is EditingRule.ADMINISTRATORS
    assert await edits_others(uow, tenant=tenant, user=pat) == NOBODY

    await set_editing_rule(uow, clock, tenant=tenant, actor=boss, who="product")

    assert await edits_others(uow, tenant=tenant, user=pat) == EVERYONE
    assert seed.actions()[-1] == "tenant.editing_rule"
    with pytest.raises(ValidationFailed):
        await set_editing_rule(uow, clock, tenant=tenant, actor=boss, who="everyone")

"""The access decision as a use case: facts, decision, licence on first use, the cache
(core.services.access)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core.clock import FixedClock
from core.errors import AccessDenied, ValidationFailed
from core.licensing.access import Action, DenialReason
from core.licensing.lifecycle import expire
from core.services.access import AccessOutcome, check_access, ensure_access
from core.services.signup import signup
from core.services.users import update_user
from core.tenancy import Deployment, LicensingMode, Tenant, User
from tests.fakes import (
    FakeDatabase,
    FakeGenerationCache,
    FakePasswordHasher,
    FakeUnitOfWork,
    FakeUnitOfWorkFactory,
)

from .conftest import NOW, TODAY, Seed, active, trial

TRACK = Action.TRACK_TIME
#: Used the product a minute ago: a request does not need to record the use again.
JUST_NOW = NOW - timedelta(minutes=1)


@pytest.fixture
def tenant(seed: Seed) -> Tenant:
    return seed.tenant("acme", subscription=active(seats=2))


async def _check(uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, user: User,
                 action: Action = TRACK, cache: FakeGenerationCache | None = None) -> AccessOutcome:
    return await check_access(uow, clock, tenant=tenant, user=user, action=action, cache=cache)


async def test_allows_a_licensed_user_what_their_role_grants_and_writes_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    ann = seed.user(tenant, licensed=True, last_used_at=JUST_NOW)
    outcome = await _check(uow, clock, tenant, ann)
    assert (outcome.decision.allowed, outcome.licensed, outcome.banner.visible) == (True, True, False)
    assert uow.writes == 0 and seed.actions() == []


async def test_licenses_a_user_on_first_use_while_a_seat_is_free(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    ann = seed.user(tenant, last_used_at=JUST_NOW)
    outcome = await _check(uow, clock, tenant, ann)
    assert outcome.decision.allowed and outcome.licensed
    assert seed.store.seats[tenant.subscription_id][ann.person_id].assigned_by == "first-use"
    [row] = seed.audit("seat.assigned")
    assert (row.actor, row.subject, row.detail) == (f"user:{ann.id}", ann.email, {"how": "first use"})


async def test_a_user_licensed_by_another_request_meanwhile_is_not_licensed_twice(
    store: FakeDatabase, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    ann = seed.user(tenant, last_used_at=JUST_NOW)

    class SeatTakenMeanwhile(FakeUnitOfWorkFactory):
        def __call__(self, *, write: bool = False) -> FakeUnitOfWork:
            if write:
                seed.license(tenant, ann)  # a concurrent request got there between read and lock
            return super().__call__(write=write)

    outcome = await _check(SeatTakenMeanwhile(store), clock, tenant, ann)
    assert outcome.decision.allowed and outcome.licensed
    assert seed.holders(tenant) == {ann.person_id} and seed.actions() == []


async def test_licenses_everyone_who_uses_the_product_during_a_trial(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("trialco", licensing_mode=LicensingMode.ADMIN_ONLY)
    users = [seed.user(tenant, f"u{i}@trialco.test", last_used_at=JUST_NOW) for i in range(5)]
    for user in users:
        assert (await _check(uow, clock, tenant, user)).decision.allowed
    assert seed.holders(tenant) == {u.person_id for u in users}


async def test_tells_a_user_no_licence_is_available_when_every_seat_is_taken(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    seed.user(tenant, "a@acme.test", licensed=True)
    seed.user(tenant, "b@acme.test", licensed=True)
    cid = seed.user(tenant, "cid@acme.test", last_used_at=JUST_NOW)
    outcome = await _check(uow, clock, tenant, cid)
    assert (outcome.decision.allowed, outcome.decision.reason, outcome.licensed) == (
        False, DenialReason.NO_SEAT, False
    )
    assert cid.person_id not in seed.holders(tenant)
    [row] = seed.audit("seat.unavailable")
    assert (row.subject, row.detail) == ("cid@acme.test", {"action": "track_time"})


async def test_a_refused_user_reaches_the_admins_once_a_day_however_often_they_retry(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active(seats=1))
    seed.user(tenant, "a@acme.test", licensed=True)
    cid = seed.user(tenant, "cid@acme.test", last_used_at=JUST_NOW)
    for _ in range(3):
        await _check(uow, clock, tenant, cid)
    assert len(seed.audit("seat.unavailable")) == 1 and uow.commits == 1
    clock.advance(days=1, seconds=1)
    await _check(uow, clock, tenant, cid)
    assert len(seed.audit("seat.unavailable")) == 2


async def test_a_tenant_that_licenses_only_by_admins_does_not_license_on_first_use(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active(seats=5), licensing_mode=LicensingMode.ADMIN_ONLY)
    ann = seed.user(tenant, last_used_at=JUST_NOW)
    outcome = await _check(uow, clock, tenant, ann)
    assert outcome.decision.reason is DenialReason.NO_SEAT and seed.holders(tenant) == set()


@pytest.mark.parametrize(
    ("role", "action", "reason"),
    [("none", TRACK, DenialReason.ROLE_NONE), ("team", Action.LOCK_WEEKS, DenialReason.NOT_PERMITTED)],
)
async def test_spends_no_seat_on_a_request_that_would_be_refused_anyway(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant, role: str, action: Action,
    reason: DenialReason,
) -> None:
    ann = seed.user(tenant, role=role, last_used_at=JUST_NOW)
    outcome = await _check(uow, clock, tenant, ann, action)
    assert outcome.decision.reason is reason
    assert seed.holders(tenant) == set() and uow.writes == 0


async def test_role_none_in_the_cloud_finds_no_time_tab_and_on_premises_a_locked_door(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    cloud = seed.tenant("cloud", subscription=active())
    server = seed.tenant("server", subscription=active(deployment=Deployment.ONPREM),
                         deployment=Deployment.ONPREM)
    in_cloud = await _check(uow, clock, cloud, seed.user(cloud, "a@x.test", role="none"))
    on_prem = await _check(uow, clock, server, seed.user(server, "a@x.test", role="none"))
    assert (in_cloud.decision.hidden, on_prem.decision.hidden) == (True, False)


async def test_an_ended_trial_blocks_everything_but_the_admins_subscription_page(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    ended = expire(trial(TODAY - timedelta(days=1)), TODAY - timedelta(days=1))
    tenant = seed.tenant("acme", subscription=ended)
    boss = seed.admin(tenant, licensed=True)
    refused = await _check(uow, clock, tenant, boss)
    allowed = await _check(uow, clock, tenant, boss, Action.PURCHASE)
    assert refused.decision.reason is DenialReason.TRIAL_EXPIRED and allowed.decision.allowed


async def test_an_uninstalled_tenant_is_blocked(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active(), uninstalled_at=NOW - timedelta(days=1))
    boss = seed.admin(tenant, licensed=True)
    outcome = await _check(uow, clock, tenant, boss, Action.VIEW_SUBSCRIPTION)
    assert outcome.decision.reason is DenialReason.TENANT_UNINSTALLED


async def test_shows_collection_admins_the_trial_countdown(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=trial(TODAY + timedelta(days=10)))
    boss = seed.admin(tenant)
    ann = seed.user(tenant)
    assert (await _check(uow, clock, tenant, boss)).banner.days_left == 10
    assert (await _check(uow, clock, tenant, ann)).banner.visible is False


async def test_records_a_users_last_use_at_most_once_an_hour(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    ann = seed.user(tenant, licensed=True, last_used_at=NOW - timedelta(hours=2))
    await _check(uow, clock, tenant, ann)
    touched = seed.store.users[tenant.id][ann.id].user
    assert touched.last_used_at == NOW
    clock.advance(minutes=30)
    await _check(uow, clock, tenant, touched)
    assert uow.commits == 1


async def test_a_refused_request_is_not_a_use(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    ann = seed.user(tenant, role="none")
    await _check(uow, clock, tenant, ann)
    assert seed.store.users[tenant.id][ann.id].user.last_used_at is None


async def test_ensure_access_raises_the_decisions_reason_as_the_code(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    ann = seed.user(tenant, role="none")
    with pytest.raises(AccessDenied) as refused:
        await ensure_access(uow, clock, tenant=tenant, user=ann, action=TRACK, cache=None)
    assert (refused.value.code, refused.value.extra) == ("role_none", {"hidden": True})


async def test_ensure_access_returns_the_outcome_when_allowed(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, tenant: Tenant
) -> None:
    ann = seed.user(tenant, licensed=True, last_used_at=JUST_NOW)
    assert (await ensure_access(uow, clock, tenant=tenant, user=ann, action=TRACK, cache=None)).licensed


# The decision cache --------------------------------------------------------------------


@pytest.fixture
def cache() -> FakeGenerationCache:
    return FakeGenerationCache()


@pytest.fixture
def cached_uow(store: FakeDatabase, cache: FakeGenerationCache) -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory(store, after_commit=cache.bump)


async def test_a_repeated_request_is_decided_once(
    cached_uow: FakeUnitOfWorkFactory, cache: FakeGenerationCache, clock: FixedClock, seed: Seed,
    tenant: Tenant,
) -> None:
    ann = seed.user(tenant, licensed=True, last_used_at=JUST_NOW)
    first = await _check(cached_uow, clock, tenant, ann, cache=cache)
    opened = len(cached_uow.units)
    again = await _check(cached_uow, clock, tenant, ann, cache=cache)
    assert again == first and cache.hits == 1 and len(cached_uow.units) == opened


async def test_a_role_change_is_decided_afresh_on_the_very_next_request(
    cached_uow: FakeUnitOfWorkFactory, cache: FakeGenerationCache, clock: FixedClock, seed: Seed,
    tenant: Tenant,
) -> None:
    boss = seed.admin(tenant, licensed=True)
    ann = seed.user(tenant, licensed=True, last_used_at=JUST_NOW)
    assert (await _check(cached_uow, clock, tenant, ann, cache=cache)).decision.allowed
    changed, _ = await update_user(cached_uow, clock, tenant=tenant, actor=boss, user_id=ann.id, role="none")
    assert f"t:{tenant.id}" in cache.bumped
    again = await _check(cached_uow, clock, tenant, changed, cache=cache)
    assert again.decision.reason is DenialReason.ROLE_NONE


async def test_a_released_seat_is_decided_afresh_on_the_very_next_request(
    cached_uow: FakeUnitOfWorkFactory, cache: FakeGenerationCache, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme", subscription=active(seats=1), licensing_mode=LicensingMode.ADMIN_ONLY)
    boss = seed.admin(tenant)
    ann = seed.user(tenant, licensed=True, last_used_at=JUST_NOW)
    assert (await _check(cached_uow, clock, tenant, ann, cache=cache)).licensed
    await update_user(cached_uow, clock, tenant=tenant, actor=boss, user_id=ann.id, licensed=False)
    assert f"s:{tenant.subscription_id}" in cache.bumped
    assert (await _check(cached_uow, clock, tenant, ann, cache=cache)).decision.reason is DenialReason.NO_SEAT


async def test_a_rolled_back_change_keeps_the_cached_decisions(
    cached_uow: FakeUnitOfWorkFactory, cache: FakeGenerationCache, clock: FixedClock, seed: Seed,
    tenant: Tenant,
) -> None:
    ann = seed.user(tenant, licensed=True, last_used_at=JUST_NOW)
    await _check(cached_uow, clock, tenant, ann, cache=cache)
    with pytest.raises(RuntimeError):
        async with cached_uow(write=True) as work:
            await work.tenant(tenant.id).users().save(replace(ann, role="none"))
            raise RuntimeError("the request failed before its commit")
    assert cache.bumped == []
    await _check(cached_uow, clock, tenant, ann, cache=cache)
    assert cache.hits == 1


async def test_without_a_cache_every_decision_reads_the_facts_again(
    cached_uow: FakeUnitOfWorkFactory, cache: FakeGenerationCache, clock: FixedClock, seed: Seed,
    tenant: Tenant,
) -> None:
    ann = seed.user(tenant, licensed=True, last_used_at=JUST_NOW)
    for _ in range(2):
        opened = len(cached_uow.units)
        await check_access(cached_uow, clock, tenant=tenant, user=ann, action=TRACK, cache=None)
        assert len(cached_uow.units) > opened
    assert (cache.puts, cache.hits) == (0, 0)


async def test_an_admin_who_signed_up_with_a_long_valid_email_is_licensed_on_first_use(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    try:
        result = await signup(uow, hasher, clock, slug="longmail", name="Long", deployment="cloud",
                              admin_email="a" * 240 + "@acme.test", admin_password="correct horse",
                              admin_name="Long", trial_days=28)
    except ValidationFailed:
        return  # refusing such an address at signup keeps the rule too
    outcome = await _check(uow, clock, result.tenant, result.admin)
    assert outcome.decision.allowed and outcome.licensed

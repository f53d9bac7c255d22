"""A set-back clock in the access use case, on the fakes: the trusted time is read for
on-premises tenants, moved forward at most once a minute, and never moved back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import FixedClock
from core.licensing.access import Action, DenialReason
from core.services.access import check_access
from core.tenancy import Deployment, Tenant, User
from tests.fakes import FakeGenerationCache, FakeUnitOfWorkFactory

from .conftest import NOW, Seed, active


@pytest.fixture
def onprem(seed: Seed) -> Tenant:
    return seed.tenant("acme", subscription=active(seats=2), deployment=Deployment.ONPREM)


@pytest.fixture
def ann(seed: Seed, onprem: Tenant) -> User:
    return seed.user(onprem, licensed=True, last_used_at=NOW)


async def _decide(uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, user: User,
                  cache: FakeGenerationCache | None = None) -> DenialReason | None:
    outcome = await check_access(uow, clock, tenant=tenant, user=user, action=Action.TRACK_TIME, cache=cache)
    return outcome.decision.reason


async def test_a_decision_on_premises_stores_the_clock_as_trusted_at_most_once_a_minute(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, onprem: Tenant, ann: User
) -> None:
    assert await _decide(uow, clock, onprem, ann) is None
    assert seed.store.trusted_times[onprem.id] == NOW.replace(microsecond=0)
    writes = uow.writes

    clock.advance(seconds=59)
    await _decide(uow, clock, onprem, ann)
    assert uow.writes == writes and seed.store.trusted_times[onprem.id] == NOW.replace(microsecond=0)

    clock.advance(seconds=1)
    await _decide(uow, clock, onprem, ann)
    assert seed.store.trusted_times[onprem.id] == (NOW + timedelta(minutes=1)).replace(microsecond=0)


async def test_a_cloud_tenants_decisions_neither_read_nor_write_a_trusted_time(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    cloud = seed.tenant("cloudy", subscription=active(seats=2))
    bob = seed.user(cloud, licensed=True, last_used_at=NOW)
    assert await _decide(uow, clock, cloud, bob) is None
    clock.advance(days=-30)
    assert await _decide(uow, clock, cloud, bob) is None
    assert cloud.id not in seed.store.trusted_times and uow.writes == 0


async def test_a_refused_clock_leaves_the_trusted_time_where_it_was(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, onprem: Tenant, ann: User
) -> None:
    await _decide(uow, clock, onprem, ann)
    clock.advance(hours=-2)

    assert await _decide(uow, clock, onprem, ann) is DenialReason.CLOCK_SET_BACK
    assert seed.store.trusted_times[onprem.id] == NOW.replace(microsecond=0)


async def test_a_cached_allowed_decision_is_not_served_to_a_clock_that_went_back(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, onprem: Tenant, ann: User
) -> None:
    cache = FakeGenerationCache()
    assert await _decide(uow, clock, onprem, ann, cache) is None
    clock.advance(hours=-2)  # same day, so the same cache key

    assert await _decide(uow, clock, onprem, ann, cache) is DenialReason.CLOCK_SET_BACK
    # Refusals for the clock are not cached: put right, the clock is believed at once.
    clock.advance(hours=2)
    assert await _decide(uow, clock, onprem, ann, cache) is None

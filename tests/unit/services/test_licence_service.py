"""The licence service's side of online activation, on the fakes: what a subscription
grants the server presenting its id, which servers may present it, what is recorded and
audited, and how a subscription's status reads to the server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.activation.ports import Entitlement
from core.clock import FixedClock
from core.errors import ValidationFailed
from core.licensing.subscription import Subscription
from core.services.licence_service import (
    NotPurchased,
    TooManyServers,
    UnknownSubscription,
    entitlement_for_server,
)
from core.tenancy import Deployment, Tenant
from tests.fakes import FakeLicenceRegistry, FakeUnitOfWorkFactory

from .conftest import TODAY, Seed, active, cancelled, past_due, trial


def _bought(seed: Seed, subscription: Subscription | None = None) -> Tenant:
    return seed.tenant("acme", subscription=subscription or active(seats=25, deployment=Deployment.ONPREM))


async def _ask(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, subscription_id: str, server_id: str = "SRV-1",
    *, tenant: str = "acme", max_servers: int = 3, grace_days: int = 14,
) -> Entitlement:
    return await entitlement_for_server(
        uow, FakeLicenceRegistry(uow.store), clock, subscription_id=subscription_id, server_id=server_id,
        tenant=tenant, address="198.51.100.7", max_servers=max_servers, grace_days=grace_days,
    )


async def test_grants_the_plan_seats_and_period_of_a_bought_subscription(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    acme = _bought(seed)
    sub = seed.subscription(acme)
    granted = await _ask(uow, clock, acme.subscription_id)
    assert sub.period is not None
    assert granted == Entitlement("team", 25, "annual", sub.period.start, sub.period.end, "active", "online")


async def test_records_a_new_server_and_audits_it_once(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    acme = _bought(seed)
    await _ask(uow, clock, acme.subscription_id)
    await _ask(uow, clock, acme.subscription_id)
    assert seed.store.registrations == {acme.subscription_id: {"SRV-1"}}
    [row] = seed.audit("licence.server_registered")
    assert (row.tenant_id, row.actor, row.subject) == (None, "server:SRV-1", acme.subscription_id)
    assert row.detail == {"tenant": "acme", "address": "198.51.100.7", "servers": 1}


async def test_reads_an_id_with_dashes_and_capitals_as_the_same_subscription(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    acme = _bought(seed)
    raw = acme.subscription_id.upper()
    typed = "-".join((raw[:8], raw[8:12], raw[12:16], raw[16:20], raw[20:]))
    assert (await _ask(uow, clock, typed)).plan_id == "team"


async def test_refuses_an_id_that_is_not_32_hex_digits_and_a_malformed_server_id(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    acme = _bought(seed)
    with pytest.raises(ValidationFailed) as bad_id:
        await _ask(uow, clock, "not-a-subscription")
    assert bad_id.value.field == "subscription_id"
    with pytest.raises(ValidationFailed) as bad_server:
        await _ask(uow, clock, acme.subscription_id, server_id="-rm -rf /")
    assert bad_server.value.field == "server_id"
    assert uow.writes == 0


async def test_refuses_an_unknown_subscription(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    _bought(seed)
    with pytest.raises(UnknownSubscription) as refused:
        await _ask(uow, clock, "0" * 32)
    assert refused.value.code == "unknown_subscription"
    assert seed.store.registrations == {} and seed.actions() == []


async def test_refuses_a_subscription_never_bought(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    acme = seed.tenant("acme", subscription=trial())
    with pytest.raises(NotPurchased) as refused:
        await _ask(uow, clock, acme.subscription_id)
    assert refused.value.code == "not_activatable"
    assert seed.store.registrations == {}


async def test_refuses_a_cloud_only_plan(uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed) -> None:
    acme = _bought(seed, active("start", seats=5))
    with pytest.raises(NotPurchased) as refused:
        await _ask(uow, clock, acme.subscription_id)
    assert "cloud organisations" in refused.value.detail
    assert seed.store.registrations == {} and seed.actions() == []


async def test_refuses_one_server_more_than_allowed_and_keeps_no_trace_of_it(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    acme = _bought(seed)
    await _ask(uow, clock, acme.subscription_id, "SRV-1", max_servers=2)
    await _ask(uow, clock, acme.subscription_id, "SRV-2", max_servers=2)
    with pytest.raises(TooManyServers) as refused:
        await _ask(uow, clock, acme.subscription_id, "SRV-3", max_servers=2)
    assert refused.value.code == "too_many_servers"
    assert seed.store.registrations[acme.subscription_id] == {"SRV-1", "SRV-2"}
    assert len(seed.audit("licence.server_registered")) == 2
    assert (await _ask(uow, clock, acme.subscription_id, "SRV-2", max_servers=2)).status == "active"


async def test_a_blank_tenant_name_is_recorded_as_a_dash(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    acme = _bought(seed)
    await _ask(uow, clock, acme.subscription_id, tenant="   ")
    [row] = seed.audit("licence.server_registered")
    assert row.detail["tenant"] == "-"


async def test_a_past_due_subscription_reads_past_due_within_its_grace_and_expired_after(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    late = seed.tenant("late", subscription=past_due(since=TODAY - timedelta(days=3)))
    lapsed = seed.tenant("lapsed", subscription=past_due(since=TODAY - timedelta(days=20)))
    assert (await _ask(uow, clock, late.subscription_id, tenant="late")).status == "past_due"
    assert (await _ask(uow, clock, lapsed.subscription_id, tenant="lapsed")).status == "expired"


async def test_a_cancelled_subscription_reads_cancelled_until_its_period_ends_then_expired(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    acme = _bought(seed, cancelled(start=TODAY - timedelta(days=30)))
    assert (await _ask(uow, clock, acme.subscription_id)).status == "cancelled"
    clock.advance(days=400)
    assert (await _ask(uow, clock, acme.subscription_id)).status == "expired"

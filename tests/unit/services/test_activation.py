"""On-premises activation on the server's side, on the fakes: installing a file (and each
reason one is refused, refusals changing nothing), activating online, the refresh that
keeps the last entitlement through its grace, and the warnings an admin sees."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from core.activation.claims import ActivationClaims, ActivationRefused, RefusalReason
from core.activation.ports import Entitlement, LicenceServiceRefused, LicenceServiceUnreachable
from core.clock import FixedClock
from core.errors import Conflict, ValidationFailed
from core.licensing.subscription import SubscriptionStatus
from core.services.activation import (
    activate_online,
    activation_view,
    install_activation_file,
    refresh_online_entitlements,
    refresh_tenant,
)
from core.tenancy import Deployment, Tenant, User
from tests.fakes import (
    FakeActivationDirectory,
    FakeActivationFileReader,
    FakeLicenceClient,
    FakeUnitOfWorkFactory,
)

from .conftest import NOW, TODAY, Seed

SERVER = "SRV-0000-1111-2222-3333"
SUB_ID = "0123456789abcdef0123456789abcdef"


def _claims(file_id: str = "file-1", **changes: Any) -> ActivationClaims:
    claims = ActivationClaims(
        file_id=file_id, tenant="acme", server_id=SERVER, plan_id="team", seats=10,
        period_start=TODAY - timedelta(days=10), expires_on=TODAY + timedelta(days=355),
        issued_at=NOW - timedelta(hours=1), key_id="k1",
    )
    return replace(claims, **changes)


def _online(seats: int = 10, expires_on: date = TODAY + timedelta(days=355)) -> Entitlement:
    return Entitlement("team", seats, "annual", TODAY - timedelta(days=10), expires_on, "active", "online")


@pytest.fixture
def directory(uow: FakeUnitOfWorkFactory) -> FakeActivationDirectory:
    uow.store.server_id = SERVER
    return FakeActivationDirectory(uow.store)


@pytest.fixture
def reader() -> FakeActivationFileReader:
    return FakeActivationFileReader()


@pytest.fixture
def client() -> FakeLicenceClient:
    return FakeLicenceClient(entitlements={SUB_ID: _online()})


@pytest.fixture
def acme(seed: Seed) -> Tenant:
    return seed.tenant("acme", deployment=Deployment.ONPREM)


@pytest.fixture
def boss(seed: Seed, acme: Tenant) -> User:
    return seed.admin(acme)


class Install:
    def __init__(self, uow: FakeUnitOfWorkFactory, directory: FakeActivationDirectory,
                 reader: FakeActivationFileReader, clock: FixedClock, acme: Tenant, boss: User) -> None:
        self.uow, self.directory, self.reader, self.clock = uow, directory, reader, clock
        self.acme, self.boss = acme, boss

    async def __call__(self, text: str, tenant: Tenant | None = None) -> object:
        return await install_activation_file(
            self.uow, self.directory, self.reader, self.clock, tenant=tenant or self.acme, actor=self.boss,
            text=text,
        )

    async def refused(self, text: str, tenant: Tenant | None = None) -> RefusalReason:
        with pytest.raises(ActivationRefused) as refused:
            await self(text, tenant)
        assert refused.value.code == "activation_refused"
        return refused.value.reason


@pytest.fixture
def install(uow: FakeUnitOfWorkFactory, directory: FakeActivationDirectory, reader: FakeActivationFileReader,
            clock: FixedClock, acme: Tenant, boss: User) -> Install:
    return Install(uow, directory, reader, clock, acme, boss)


# Files ------------------------------------------------------------------------------------


async def test_installing_a_file_grants_its_plan_and_seats_until_expiry_and_grace(
    install: Install, reader: FakeActivationFileReader, seed: Seed, acme: Tenant, boss: User
) -> None:
    claims = _claims()
    await install(reader.issue(claims))
    sub = seed.subscription(acme)
    assert (sub.plan_id, sub.seats, sub.status) == ("team", 10, SubscriptionStatus.CANCELLED)
    assert sub.period is not None and sub.period.end == claims.expires_on + timedelta(days=7)
    record = seed.store.activations[acme.id]
    assert record.mode == "file" and record.file_state.installed == claims
    assert record.entitlement is not None and record.entitlement.source == "file"
    assert seed.store.trusted_times[acme.id] == NOW
    assert seed.actions() == ["subscription.entitled", "activation.file_installed"]
    assert seed.audit("activation.file_installed")[0].actor == f"user:{boss.id}"


async def test_refuses_a_tampered_file_and_a_file_signed_with_an_unknown_key(
    install: Install, reader: FakeActivationFileReader, seed: Seed
) -> None:
    assert await install.refused("fake-activation-file.k1.edited") is RefusalReason.TAMPERED
    assert await install.refused(reader.issue(_claims(), trusted=False)) is RefusalReason.WRONG_KEY
    assert seed.store.activations == {} and seed.actions() == []


async def test_refuses_an_expired_file_and_changes_nothing(
    install: Install, reader: FakeActivationFileReader, seed: Seed, acme: Tenant
) -> None:
    before = seed.subscription(acme)
    expired = _claims(period_start=TODAY - timedelta(days=40), expires_on=TODAY)
    assert await install.refused(reader.issue(expired)) is RefusalReason.EXPIRED
    assert seed.subscription(acme) == before and seed.store.activations == {} and seed.actions() == []


async def test_refuses_a_file_for_another_server(install: Install, reader: FakeActivationFileReader) -> None:
    assert await install.refused(reader.issue(_claims(server_id="SRV-OTHER"))) is RefusalReason.OTHER_SERVER


async def test_refuses_a_file_for_another_tenant_of_this_server(
    install: Install, reader: FakeActivationFileReader, seed: Seed
) -> None:
    globex = seed.tenant("globex", deployment=Deployment.ONPREM)
    with pytest.raises(ActivationRefused) as refused:
        await install(reader.issue(_claims()), globex)
    assert refused.value.reason is RefusalReason.OTHER_SERVER and "for tenant acme" in refused.value.detail
    assert seed.store.activations == {}


async def test_refuses_a_file_older_than_the_one_installed_and_keeps_the_newer(
    install: Install, reader: FakeActivationFileReader, seed: Seed, acme: Tenant
) -> None:
    newer = _claims("file-2", seats=20)
    await install(reader.issue(newer))
    older = _claims("file-1", issued_at=NOW - timedelta(days=2))
    assert await install.refused(reader.issue(older)) is RefusalReason.OLDER_THAN_INSTALLED
    assert seed.store.activations[acme.id].file_state.installed == newer
    assert seed.subscription(acme).seats == 20


async def test_refuses_a_file_when_the_clock_was_set_back_behind_a_verified_file(
    install: Install, reader: FakeActivationFileReader, clock: FixedClock
) -> None:
    await install(reader.issue(_claims(issued_at=NOW)))
    clock.advance(hours=-1)
    later = _claims("file-2", issued_at=NOW - timedelta(hours=2))
    assert await install.refused(reader.issue(later)) is RefusalReason.CLOCK_SET_BACK


async def test_installing_the_same_file_again_changes_nothing_but_the_trusted_time(
    install: Install, reader: FakeActivationFileReader, clock: FixedClock, seed: Seed, acme: Tenant
) -> None:
    text = reader.issue(_claims())
    await install(text)
    clock.advance(hours=2)
    await install(text)
    assert seed.actions() == [
        "subscription.entitled", "activation.file_installed", "activation.file_installed",
    ]
    assert seed.store.trusted_times[acme.id] == NOW + timedelta(hours=2)


async def test_a_file_with_fewer_seats_than_licensed_users_releases_the_least_recent(
    install: Install, reader: FakeActivationFileReader, seed: Seed, acme: Tenant
) -> None:
    users = [
        seed.user(acme, f"u{days}@acme.test", licensed=True, last_used_at=NOW - timedelta(days=days))
        for days in (1, 2, 3)
    ]
    await install(reader.issue(_claims(seats=2)))
    assert seed.holders(acme) == {users[0].person_id, users[1].person_id}
    [released] = seed.audit("seat.released")
    assert released.subject == users[2].person_id


async def test_refuses_activation_of_a_cloud_tenant(
    install: Install, reader: FakeActivationFileReader, seed: Seed
) -> None:
    cloudy = seed.tenant("cloudy")
    with pytest.raises(Conflict):
        await install(reader.issue(_claims(tenant="cloudy")), cloudy)


# Online -----------------------------------------------------------------------------------


async def test_activating_online_installs_the_entitlement_the_service_answers_with(
    uow: FakeUnitOfWorkFactory, directory: FakeActivationDirectory, client: FakeLicenceClient,
    clock: FixedClock, seed: Seed, acme: Tenant, boss: User
) -> None:
    sub = await activate_online(
        uow, directory, client, clock, tenant=acme, actor=boss, subscription_id=SUB_ID.upper()
    )
    assert (sub.seats, sub.status) == (10, SubscriptionStatus.CANCELLED)
    assert client.calls == [(SUB_ID, SERVER, "acme")]
    record = seed.store.activations[acme.id]
    assert (record.mode, record.subscription_id, record.refreshed_at) == ("online", SUB_ID, NOW)
    [row] = seed.audit("activation.online")
    assert (row.subject, row.detail) == (SUB_ID, {"server_id": SERVER})


@pytest.mark.parametrize(
    ("unreachable", "refusal", "error"),
    [(True, None, LicenceServiceUnreachable), (False, "Too many servers.", LicenceServiceRefused)],
)
async def test_refuses_online_activation_when_the_service_cannot_be_reached_or_refuses(
    uow: FakeUnitOfWorkFactory, directory: FakeActivationDirectory, clock: FixedClock, seed: Seed,
    acme: Tenant, boss: User, unreachable: bool, refusal: str | None, error: type[Exception],
) -> None:
    client = FakeLicenceClient(entitlements={SUB_ID: _online()}, unreachable=unreachable, refusal=refusal)
    before = seed.subscription(acme)
    with pytest.raises(error):
        await activate_online(uow, directory, client, clock, tenant=acme, actor=boss, subscription_id=SUB_ID)
    assert seed.store.activations == {} and seed.actions() == [] and seed.subscription(acme) == before


async def test_refuses_a_malformed_subscription_id_before_calling_the_service(
    uow: FakeUnitOfWorkFactory, directory: FakeActivationDirectory, client: FakeLicenceClient,
    clock: FixedClock, acme: Tenant, boss: User
) -> None:
    with pytest.raises(ValidationFailed):
        await activate_online(uow, directory, client, clock, tenant=acme, actor=boss, subscription_id="abc")
    assert client.calls == []


# Refresh ----------------------------------------------------------------------------------


async def _activated(
    uow: FakeUnitOfWorkFactory, directory: FakeActivationDirectory, client: FakeLicenceClient,
    clock: FixedClock, tenant: Tenant, actor: User,
) -> None:
    await activate_online(uow, directory, client, clock, tenant=tenant, actor=actor, subscription_id=SUB_ID)


async def test_refusing_to_refresh_a_tenant_not_activated_online(
    uow: FakeUnitOfWorkFactory, directory: FakeActivationDirectory, client: FakeLicenceClient,
    clock: FixedClock, acme: Tenant
) -> None:
    with pytest.raises(Conflict):
        await refresh_tenant(uow, directory, client, clock, tenant=acme)


async def test_a_refresh_installs_what_the_service_grants_now(
    uow: FakeUnitOfWorkFactory, directory: FakeActivationDirectory, client: FakeLicenceClient,
    clock: FixedClock, seed: Seed, acme: Tenant, boss: User
) -> None:
    await _activated(uow, directory, client, clock, acme, boss)
    client.entitlements[SUB_ID] = _online(seats=40)
    clock.advance(hours=6)
    assert await refresh_tenant(uow, directory, client, clock, tenant=acme) is None
    assert seed.subscription(acme).seats == 40
    assert seed.store.activations[acme.id].refreshed_at == NOW + timedelta(hours=6)


async def test_a_failed_refresh_keeps_the_last_entitlement_and_audits_the_failure_once(
    uow: FakeUnitOfWorkFactory, directory: FakeActivationDirectory, client: FakeLicenceClient,
    clock: FixedClock, seed: Seed, acme: Tenant, boss: User
) -> None:
    await _activated(uow, directory, client, clock, acme, boss)
    client.unreachable = True
    for _ in range(2):
        clock.advance(hours=6)
        assert "cannot reach" in (await refresh_tenant(uow, directory, client, clock, tenant=acme) or "")
    record = seed.store.activations[acme.id]
    assert record.entitlement == _online() and record.refreshed_at == NOW
    assert record.attempted_at == NOW + timedelta(hours=12) and record.refresh_error
    assert len(seed.audit("activation.refresh_failed")) == 1
    assert seed.subscription(acme).status is SubscriptionStatus.CANCELLED


async def test_the_last_entitlement_holds_through_its_grace_and_then_expires(
    uow: FakeUnitOfWorkFactory, directory: FakeActivationDirectory, clock: FixedClock, seed: Seed,
    acme: Tenant, boss: User
) -> None:
    client = FakeLicenceClient(entitlements={SUB_ID: _online(expires_on=TODAY + timedelta(days=1))})
    await _activated(uow, directory, client, clock, acme, boss)
    client.unreachable = True
    clock.advance(days=7)
    await refresh_tenant(uow, directory, client, clock, tenant=acme)
    assert seed.subscription(acme).status is SubscriptionStatus.CANCELLED
    clock.advance(days=1)
    await refresh_tenant(uow, directory, client, clock, tenant=acme)
    assert seed.subscription(acme).status is SubscriptionStatus.EXPIRED


async def test_the_refresh_job_counts_refreshed_and_failed_tenants_activated_online(
    uow: FakeUnitOfWorkFactory, directory: FakeActivationDirectory, reader: FakeActivationFileReader,
    clock: FixedClock, seed: Seed, acme: Tenant, boss: User
) -> None:
    other = "fedcba9876543210fedcba9876543210"
    client = FakeLicenceClient(entitlements={SUB_ID: _online(), other: _online()})
    globex = seed.tenant("globex", deployment=Deployment.ONPREM)
    await _activated(uow, directory, client, clock, acme, boss)
    await activate_online(
        uow, directory, client, clock, tenant=globex, actor=seed.admin(globex, "g@globex.test"),
        subscription_id=other,
    )
    initech = seed.tenant("initech", deployment=Deployment.ONPREM)
    await install_activation_file(
        uow, directory, reader, clock, tenant=initech, actor=seed.admin(initech, "i@initech.test"),
        text=reader.issue(_claims(tenant="initech")),
    )
    del client.entitlements[other]
    client.calls.clear()
    report = await refresh_online_entitlements(uow, directory, client, clock)
    assert (report.refreshed, report.failed) == (1, 1)
    assert sorted(call[2] for call in client.calls) == ["acme", "globex"]


# What the admin sees ----------------------------------------------------------------------


async def test_the_view_warns_of_an_unreachable_service_and_an_expired_licence_in_its_grace(
    uow: FakeUnitOfWorkFactory, directory: FakeActivationDirectory, clock: FixedClock, seed: Seed,
    acme: Tenant, boss: User
) -> None:
    client = FakeLicenceClient(entitlements={SUB_ID: _online(expires_on=TODAY + timedelta(days=1))})
    await _activated(uow, directory, client, clock, acme, boss)
    client.unreachable = True
    clock.advance(days=2)
    await refresh_tenant(uow, directory, client, clock, tenant=acme)
    view = await activation_view(uow, directory, clock, tenant=acme)
    assert view.server_id == SERVER and view.holds_until == TODAY + timedelta(days=8)
    assert [w.split(" ")[:4] for w in view.warnings] == [
        ["Stint", "could", "not", "reach"], ["The", "licence", "expired", "on"],
    ]


async def test_the_view_puts_a_set_back_clock_first(
    install: Install, reader: FakeActivationFileReader, uow: FakeUnitOfWorkFactory,
    directory: FakeActivationDirectory, clock: FixedClock, acme: Tenant
) -> None:
    await install(reader.issue(_claims(issued_at=NOW)))
    assert (await activation_view(uow, directory, clock, tenant=acme)).warnings == ()
    clock.advance(days=-1)
    warnings = (await activation_view(uow, directory, clock, tenant=acme)).warnings
    assert warnings and "set back" in warnings[0]

"""The tracking, activation and jobs fakes behave as their real adapters where the use cases
depend on it: writes join the open unit of work, keys are used once, reads keep their order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.activation.ports import (
    ActivationDirectory,
    ActivationFileReader,
    ActivationRecord,
    ActivationRepository,
    LicenceClient,
    LicenceRegistry,
)
from core.jobs.ports import JobStore, MailDraft, Mailer
from core.licensing.subscription import Subscription, SubscriptionStatus
from core.tracking import Timer
from core.tracking.ports import (
    ConnectorKind,
    DevOpsConnectionStore,
    DevOpsConnector,
    StaleWorkItem,
    StoredDevOpsConnection,
    TrackingDirectory,
    TrackingRepository,
)
from tests.fakes import (
    FakeActivationDirectory,
    FakeActivationFileReader,
    FakeActivationRepository,
    FakeDatabase,
    FakeDevOpsConnectionStore,
    FakeDevOpsConnector,
    FakeJobStore,
    FakeLicenceClient,
    FakeLicenceRegistry,
    FakeMailer,
    FakeTrackingDirectory,
    FakeTrackingRepository,
    FakeUnitOfWorkFactory,
    ReadOnlyUnitOfWork,
    StoredSubscription,
)

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _satisfies_the_ports(store: FakeDatabase) -> None:
    """Never run: mypy (``mypy --strict tests/fakes tests/unit/fakes``) checks each fake against its port."""
    tracking: TrackingRepository = FakeTrackingRepository(store, "t")
    directory: TrackingDirectory = FakeTrackingDirectory(store)
    connector: DevOpsConnector = FakeDevOpsConnector()
    connections: DevOpsConnectionStore = FakeDevOpsConnectionStore(store)
    activation: ActivationRepository = FakeActivationRepository(store, "t")
    activations: ActivationDirectory = FakeActivationDirectory(store)
    registry: LicenceRegistry = FakeLicenceRegistry(store)
    client: LicenceClient = FakeLicenceClient()
    reader: ActivationFileReader = FakeActivationFileReader()
    jobs: JobStore = FakeJobStore(store)
    mailer: Mailer = FakeMailer()
    del tracking, directory, connector, connections, activation, activations, registry, client, reader
    del jobs, mailer


@pytest.fixture
def store() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def uow(store: FakeDatabase) -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory(store)


def _mail(recipient: str = "a@acme.test") -> MailDraft:
    return MailDraft("trial_ends_soon", "t1", date(2026, 3, 13), recipient, "subject", "body")


async def test_a_work_item_effect_is_queued_once_ever_even_after_it_is_done(
    uow: FakeUnitOfWorkFactory,
) -> None:
    async with uow(write=True) as work:
        repo = work.tenant("t1").tracking()
        await repo.enqueue_work_item("42", "remaining:w1", 600, NOW)
        [entry] = await repo.pending_effects("42")
        await repo.finish_effects([entry.id], NOW)
        await repo.enqueue_work_item("42", "remaining:w1", 600, NOW)
        assert await repo.pending_work_items() == []
        await work.commit()


async def test_a_read_unit_of_work_may_not_lock_a_user_nor_save_a_timer(uow: FakeUnitOfWorkFactory) -> None:
    async with uow() as work:
        repo = work.tenant("t1").tracking()
        with pytest.raises(ReadOnlyUnitOfWork):
            await repo.lock_user("u1")
        with pytest.raises(ReadOnlyUnitOfWork):
            await repo.save_timer(Timer("u1", NOW, None, None, NOW + timedelta(hours=1)), NOW)


async def test_the_connection_store_and_the_job_store_join_the_open_unit_of_work(
    store: FakeDatabase, uow: FakeUnitOfWorkFactory
) -> None:
    connections, jobs = FakeDevOpsConnectionStore(store), FakeJobStore(store)
    azure = StoredDevOpsConnection(ConnectorKind.AZURE_DEVOPS, "https://dev.azure.com/a", None, "sealed")
    async with uow(write=True):
        await connections.save("t1", azure, NOW)
        assert await jobs.queue_mail(_mail(), NOW)
        assert await connections.load("t1") is not None
    # Left without a commit: both writes are gone with the transaction.
    assert await connections.load("t1") is None and store.mails == []
    async with uow(write=True) as work:
        await connections.save("t1", azure, NOW)
        assert await jobs.queue_mail(_mail(), NOW)
        await work.commit()
    assert await connections.load("t1") == StoredDevOpsConnection(
        ConnectorKind.AZURE_DEVOPS, "https://dev.azure.com/a", None, "sealed", NOW
    )
    assert not await jobs.queue_mail(_mail(), NOW)  # its unique key is taken


async def test_a_registration_refused_by_the_use_case_is_rolled_back(
    store: FakeDatabase, uow: FakeUnitOfWorkFactory
) -> None:
    store.subscriptions["s1"] = StoredSubscription(
        Subscription("team", SubscriptionStatus.TRIALING, trial_ends_on=date(2026, 4, 1)), "e1"
    )
    registry = FakeLicenceRegistry(store)
    async with uow(write=True):
        assert await registry.subscription("s1") is not None
        assert (await registry.register("s1", "SRV-1", "acme", None, NOW)).new
    async with uow(write=True) as work:
        first = await registry.register("s1", "SRV-2", "acme", None, NOW)
        again = await registry.register("s1", "SRV-2", "acme", None, NOW)
        await work.commit()
    assert (first.new, first.servers, again.new, again.servers) == (True, 1, False, 1)


async def test_the_first_server_id_asked_for_is_kept(store: FakeDatabase, uow: FakeUnitOfWorkFactory) -> None:
    directory = FakeActivationDirectory(store)
    async with uow(write=True) as work:
        assert await directory.server_id("SRV-A", NOW) == "SRV-A"
        await work.commit()
    async with uow(write=True) as work:
        assert await directory.server_id("SRV-B", NOW) == "SRV-A"
        await work.tenant("t2").activation().save(ActivationRecord(mode="online"), NOW)
        await work.tenant("t1").activation().save(ActivationRecord(mode="file"), NOW)
        await work.commit()
    async with uow():
        assert await directory.online_tenants() == ["t2"]


async def test_a_claimed_mail_is_never_claimed_again_and_a_failed_one_is_released_at_once(
    store: FakeDatabase,
) -> None:
    jobs = FakeJobStore(store)
    await jobs.queue_mail(_mail("a@acme.test"), NOW)
    await jobs.queue_mail(_mail("b@acme.test"), NOW + timedelta(seconds=1))
    await jobs.queue_mail(_mail("c@acme.test"), NOW + timedelta(seconds=2))
    a, b, c = await jobs.pending_mail(10)
    first = await jobs.claim_mail(a, NOW)
    assert first is not None and first.recipient == "a@acme.test"
    assert await jobs.claim_mail(a, NOW) is None  # another sender gets nothing
    assert await jobs.claim_mail(b, NOW) is not None
    assert await jobs.claim_mail(c, NOW) is not None
    assert await jobs.pending_mail(10) == []
    await jobs.mail_failed(a, "refused")
    await jobs.mail_sent(b, NOW)
    assert await jobs.pending_mail(10) == [a]
    again = await jobs.claim_mail(a, NOW + timedelta(seconds=1))
    assert again is not None and again.attempts == 2
    # c's sender died: its claim is never taken back by time, only marked in doubt, once.
    assert await jobs.mails_abandoned(NOW + timedelta(hours=1), NOW + timedelta(hours=1)) == 2  # a and c
    assert await jobs.mails_abandoned(NOW + timedelta(hours=2), NOW + timedelta(hours=2)) == 0
    assert await jobs.pending_mail(10) == []


async def test_the_fake_platform_refuses_a_stale_revision_and_keeps_every_revision() -> None:
    platform = FakeDevOpsConnector()
    platform.add_item("42", remaining=Decimal("8"))
    platform.edit_item("42", remaining=Decimal("9"))
    with pytest.raises(StaleWorkItem):
        await platform.update_work_item("42", rev=1, completed_work=Decimal("1"), remaining_work=None)
    written = await platform.update_work_item("42", rev=2, completed_work=Decimal("1"), remaining_work=None)
    assert written.rev == 3
    assert (await platform.revision("42", 2)) == platform.revisions["42"][1]
    assert await platform.work_item("nope") is None

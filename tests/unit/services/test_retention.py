"""Retention (core.services.retention): a cloud tenant's data is purged 365 days after expiry,
after warnings at 30, 7 and 1 days; on-premises data never; a warning always comes first."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.clock import FixedClock
from core.licensing.deployment import Deployment
from core.services.retention import purge_allowed, purge_on, run_retention, warning_due
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes.jobs import FakeJobStore

from .conftest import NOW, TODAY, Seed, active
from .tracking_builders import Tracking, expired


@pytest.fixture
def jobs(store: FakeDatabase) -> FakeJobStore:
    return FakeJobStore(store)


def expired_days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@pytest.mark.parametrize(
    ("left", "given", "due"),
    [
        (31, {}, None),
        (30, {}, 30),
        (30, {30: TODAY}, None),
        (5, {}, 7),  # a job that missed the 30-day warning gives the 7-day one only
        (5, {30: TODAY}, 7),
        (1, {30: TODAY, 7: TODAY}, 1),
        (-3, {}, 1),  # past the purge date and never warned: the last warning, not a purge
        (0, {1: TODAY}, None),
    ],
)
def test_the_most_urgent_warning_reached_is_due_once(
    left: int, given: dict[int, date], due: int | None
) -> None:
    assert warning_due(TODAY, TODAY + timedelta(days=left), given) == due


def test_the_purge_waits_for_its_day_and_a_last_warning_given_on_an_earlier_day() -> None:
    purge_date = TODAY
    assert purge_allowed(TODAY, purge_date, {1: TODAY - timedelta(days=1)})
    assert not purge_allowed(TODAY, purge_date, {1: TODAY})
    assert not purge_allowed(TODAY, purge_date, {30: TODAY - timedelta(days=30)})
    assert not purge_allowed(TODAY - timedelta(days=1), purge_date, {1: TODAY - timedelta(days=2)})
    assert purge_on(date(2025, 3, 10)) == date(2026, 3, 10)


async def test_a_cloud_tenant_is_warned_at_30_7_and_1_days_and_purged_on_day_365(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant(subscription=expired(expired_days_ago(335)))
    seed.admin(tenant, "boss@acme.test")
    purge_date = TODAY + timedelta(days=30)
    purged_on, queued = None, {}
    for day in range(31):
        report = await run_retention(uow, jobs, clock, base_url="https://stint.test")
        queued.update({mail.id: mail.draft for mail in store.mails})
        if report.purged:
            purged_on = TODAY + timedelta(days=day)
        clock.advance(days=1)
    assert [a.detail["days"] for a in seed.audit("retention.warned")] == [30, 7, 1]
    drafts = list(queued.values())
    assert [d.kind for d in drafts] == ["retention_warning_30", "retention_warning_7", "retention_warning_1"]
    assert all(d.on_date == purge_date and d.recipient == "boss@acme.test" for d in drafts)
    assert "https://stint.test/settings/subscription" in drafts[0].body
    assert purged_on == purge_date
    assert store.purged_at[tenant.id] == NOW + timedelta(days=30)


async def test_a_warning_is_given_once_however_often_the_job_runs(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    seed.admin(seed.tenant(subscription=expired(expired_days_ago(335))))
    first = await run_retention(uow, jobs, clock)
    again = await run_retention(uow, jobs, clock)
    assert (first.warned, first.mails, again.warned, again.mails) == (1, 1, 0, 0)
    assert len(store.mails) == 1


async def test_a_job_that_missed_every_warning_warns_first_and_purges_a_day_later(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant(subscription=expired(expired_days_ago(400)))
    seed.admin(tenant)
    today = await run_retention(uow, jobs, clock)
    assert (today.warned, today.purged) == (1, 0)
    assert [m.draft.kind for m in store.mails] == ["retention_warning_1"]
    assert tenant.id not in store.purged_at
    clock.advance(days=1)
    assert (await run_retention(uow, jobs, clock)).purged == 1


async def test_a_purge_deletes_the_tenants_tracking_data_users_and_seats_and_keeps_invoices_and_audit(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant(subscription=expired(expired_days_ago(366)))
    ann = seed.admin(tenant, "ann@acme.test")
    kept_elsewhere = seed.user(seed.tenant("globex"), "ann@acme.test")
    bob = seed.user(tenant, "bob@acme.test", licensed=True)
    invoice = seed.invoice(tenant)
    tracking = Tracking(store)
    tracking.worklog(tenant, bob, NOW - timedelta(days=400))
    tracking.timer(tenant, bob, NOW - timedelta(days=400))
    store.retention_notices[(tenant.id, purge_on(expired_days_ago(366)))] = {1: TODAY - timedelta(days=1)}
    report = await run_retention(uow, jobs, clock)
    assert report.purged == 1
    assert tenant.id not in store.worklogs and tenant.id not in store.timers and tenant.id not in store.users
    assert bob.person_id not in store.persons  # nobody's data any more
    assert ann.person_id in store.persons and kept_elsewhere.id in store.users[kept_elsewhere.tenant_id]
    assert invoice.id in store.invoices and tenant.id in store.tenants
    [audited] = seed.audit("tenant.purged")
    assert audited.actor == "system:retention"
    assert audited.detail["deleted"] == {
        "tenant_user": 2, "tracking_timer": 1, "worklog": 1, "seat": 1, "person": 1
    }
    assert bob.person_id not in seed.holders(tenant)
    assert (await run_retention(uow, jobs, clock)).purged == 0


async def test_on_premises_data_is_never_warned_about_nor_purged(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant(subscription=expired(expired_days_ago(500)), deployment=Deployment.ONPREM)
    seed.admin(tenant)
    store.retention_notices[(tenant.id, purge_on(expired_days_ago(500)))] = {1: TODAY - timedelta(days=100)}
    report = await run_retention(uow, jobs, clock)
    assert (report.warned, report.purged) == (0, 0)
    assert store.mails == [] and tenant.id not in store.purged_at


async def test_a_reactivated_tenant_is_not_purged(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant(subscription=expired(expired_days_ago(360)))
    seed.admin(tenant)
    assert (await run_retention(uow, jobs, clock)).warned == 1
    seed.stored(tenant).subscription = active()
    clock.advance(days=10)
    report = await run_retention(uow, jobs, clock)
    assert (report.warned, report.purged) == (0, 0)
    assert tenant.id not in store.purged_at


async def test_tenants_are_visited_in_batches_until_none_is_left(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed
) -> None:
    for n in range(5):
        seed.admin(seed.tenant(f"t{n}-acme", subscription=expired(expired_days_ago(335))), f"b@t{n}.test")
    report = await run_retention(uow, jobs, clock, batch=2)
    assert (report.warned, report.mails) == (5, 5)

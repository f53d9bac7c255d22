"""Notification jobs on the fakes (core.services.reminders): seat refusals reach the collection
admins once per refused user and day; a day off or a short week changes what is expected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.clock import FixedClock
from core.services.reminders import queue_billing_mails, queue_seat_requests
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes.jobs import FakeJobStore

from .conftest import TODAY, Seed, due_invoice


@pytest.fixture
def jobs(store: FakeDatabase) -> FakeJobStore:
    return FakeJobStore(store)


async def _refuse(uow: FakeUnitOfWorkFactory, tenant_id: str, user_id: str, email: str, at: datetime) -> None:
    async with uow(write=True) as work:
        await work.tenant(tenant_id).audit().record(f"user:{user_id}", "seat.unavailable", email, {}, at)
        await work.commit()


async def test_each_collection_admin_hears_of_a_refused_user_once_a_day(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    seed.admin(tenant, "boss@acme.test")
    seed.user(tenant, "ceo@acme.test", collection_admin=True)
    ann = seed.user(tenant, "ann@acme.test")
    await _refuse(uow, tenant.id, ann.id, ann.email, clock.now())
    assert await queue_seat_requests(uow, jobs, clock, base_url="https://stint.test") == 2
    assert await queue_seat_requests(uow, jobs, clock) == 0
    mails = [m.draft for m in store.mails]
    assert sorted(m.recipient for m in mails) == ["boss@acme.test", "ceo@acme.test"]
    assert {m.subject for m in mails} == {"ann@acme.test needs a Stint licence"}
    assert all("https://stint.test/settings/subscription" in m.body for m in mails)
    # Refused again the next day: one more mail each.
    clock.set(clock.now() + timedelta(days=1))
    await _refuse(uow, tenant.id, ann.id, ann.email, clock.now())
    assert await queue_seat_requests(uow, jobs, clock) == 2


async def test_an_admin_who_turned_seat_requests_off_gets_none(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    from core.services.notification_preferences import set_my_notifications

    tenant = seed.tenant()
    boss = seed.admin(tenant, "boss@acme.test")
    ann = seed.user(tenant, "ann@acme.test")
    await set_my_notifications(uow, tenant=tenant, user=boss, kinds={"seat_requests": False})
    await _refuse(uow, tenant.id, ann.id, ann.email, datetime(2026, 1, 5, 9, tzinfo=UTC))
    clock.set(datetime(2026, 1, 5, 10, tzinfo=UTC))
    assert await queue_seat_requests(uow, jobs, clock) == 0
    assert store.mails == []


async def test_an_issued_invoice_and_a_failed_payment_reach_each_collection_admin_once(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    seed.admin(tenant, "boss@acme.test")
    seed.user(tenant, "ann@acme.test")
    invoice = seed.invoice(tenant, due_invoice(544_060, issued_on=TODAY))
    seed.invoice(tenant, due_invoice(100, issued_on=TODAY - timedelta(days=30)))  # long ago: no mail
    async with uow(write=True) as work:
        await work.tenant(tenant.id).audit().record("billing", "invoice.payment_failed", invoice.id, {},
                                                    clock.now())
        await work.commit()
    assert await queue_billing_mails(uow, jobs, clock, base_url="https://stint.test") == 2
    assert await queue_billing_mails(uow, jobs, clock) == 0
    subjects = sorted(m.draft.subject for m in store.mails)
    name = invoice.number_text or invoice.id
    assert subjects == ["A Stint payment failed", f"Stint invoice {name}: 5,440.60 USD"]
    assert {m.draft.recipient for m in store.mails} == {"boss@acme.test"}


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_missing_time_reminders_are_skipped_only_when_no_zone_on_earth_is_in_its_reminder_days(
    now: datetime,
) -> None:
    from core.services.reminders import REMIND_DAYS, _reminding_somewhere

    # Every quarter-hour offset from UTC−12 to UTC+14 (every real zone's offset is one of them).
    somewhere = any((now + timedelta(minutes=15 * n)).weekday() < REMIND_DAYS for n in range(-48, 57))
    assert _reminding_somewhere(now) is somewhere

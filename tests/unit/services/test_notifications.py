"""Mails the calendar sends (core.services.notifications): "trial ends in 3 days", queued once
per admin and end date, and delivered from the outbox so a mail server that is down loses none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import FixedClock
from core.jobs.ports import MailInDoubt
from core.services.notifications import (
    MAIL_LEASE_SECONDS,
    deliver_mail,
    queue_trial_reminders,
    trial_reminder,
)
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes.jobs import FakeJobStore, FakeMailer

from .conftest import NOW, TODAY, Seed, trial


@pytest.fixture
def jobs(store: FakeDatabase) -> FakeJobStore:
    return FakeJobStore(store)


@pytest.fixture
def mailer() -> FakeMailer:
    return FakeMailer()


async def test_each_collection_admin_gets_one_reminder_three_days_before_the_trial_ends(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant(subscription=trial(ends_on=TODAY + timedelta(days=3)))
    seed.admin(tenant, "boss@acme.test")
    seed.user(tenant, "ceo@acme.test", collection_admin=True)
    seed.user(tenant, "ann@acme.test")
    assert await queue_trial_reminders(uow, jobs, clock, base_url="https://stint.test") == 2
    assert sorted(mail.draft.recipient for mail in store.mails) == ["boss@acme.test", "ceo@acme.test"]
    draft = store.mails[0].draft
    assert (draft.kind, draft.on_date) == ("trial_ends_soon", TODAY + timedelta(days=3))
    assert draft.subject == "Your Stint trial ends in 3 days"
    assert "https://stint.test/settings/subscription" in draft.body
    # The job runs again (or on another worker): nothing more is queued.
    assert await queue_trial_reminders(uow, jobs, clock) == 0
    assert len(store.mails) == 2


async def test_a_job_that_missed_a_day_still_reminds_and_says_how_many_days_are_left(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant(subscription=trial(ends_on=TODAY + timedelta(days=1)))
    seed.admin(tenant)
    assert await queue_trial_reminders(uow, jobs, clock) == 1
    assert store.mails[0].draft.subject == "Your Stint trial ends in 1 day"


@pytest.mark.parametrize("days", [0, 8, 10])
async def test_no_reminder_outside_the_last_week(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, days: int
) -> None:
    seed.admin(seed.tenant(subscription=trial(ends_on=TODAY + timedelta(days=days))))
    assert await queue_trial_reminders(uow, jobs, clock) == 0


async def test_the_days_left_are_counted_in_the_tenants_own_zone(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed
) -> None:
    ends_on = TODAY + timedelta(days=8)
    seed.admin(seed.tenant("utc", subscription=trial(ends_on=ends_on)), "boss@utc.test")
    seed.admin(seed.tenant("kiri", subscription=trial(ends_on=ends_on), time_zone="Pacific/Kiritimati"),
               "boss@kiri.test")
    clock.set(datetime(2026, 3, 10, 11, 0, tzinfo=UTC))  # already the 11th at UTC+14
    assert await queue_trial_reminders(uow, jobs, clock) == 1


async def test_an_uninstalled_tenant_gets_no_reminder(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant(subscription=trial(ends_on=TODAY + timedelta(days=2)), uninstalled_at=NOW)
    seed.admin(tenant)
    assert await queue_trial_reminders(uow, jobs, clock) == 0


async def test_an_extended_trial_gets_a_reminder_for_its_new_end(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant(subscription=trial(ends_on=TODAY + timedelta(days=3)))
    seed.admin(tenant)
    await queue_trial_reminders(uow, jobs, clock)
    seed.stored(tenant).subscription = trial(ends_on=TODAY + timedelta(days=10))
    clock.advance(days=7)
    assert await queue_trial_reminders(uow, jobs, clock) == 1
    ends = [mail.draft.on_date for mail in store.mails]
    assert ends == [TODAY + timedelta(days=3), TODAY + timedelta(days=10)]


async def test_a_trial_gets_its_seven_three_and_one_day_reminders_once_each(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    seed.admin(seed.tenant(subscription=trial(ends_on=TODAY + timedelta(days=7))))
    sent = []
    for _ in range(7):  # every day of the last week, twice a day
        first = await queue_trial_reminders(uow, jobs, clock)
        sent.append(first + await queue_trial_reminders(uow, jobs, clock))
        clock.advance(days=1)
    assert sent == [1, 0, 0, 0, 1, 0, 1]
    assert [mail.draft.subject for mail in store.mails] == [
        "Your Stint trial ends in 7 days", "Your Stint trial ends in 3 days",
        "Your Stint trial ends in 1 day",
    ]


# Delivery ---------------------------------------------------------------------------------


async def queue(uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, seed: Seed, *recipients: str) -> None:
    tenant = seed.tenant()
    async with uow(write=True) as work:
        for to in recipients:
            await jobs.queue_mail(trial_reminder(tenant, to, TODAY, 3, ""), NOW)
        await work.commit()


async def test_delivery_sends_each_queued_mail_once(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, mailer: FakeMailer, clock: FixedClock, seed: Seed,
    store: FakeDatabase,
) -> None:
    await queue(uow, jobs, seed, "a@acme.test", "b@acme.test")
    report = await deliver_mail(uow, jobs, mailer, clock)
    assert (report.sent, report.failed) == (2, 0)
    assert [m.to for m in mailer.sent] == ["a@acme.test", "b@acme.test"]
    assert all(mail.sent_at == NOW for mail in store.mails)
    assert (await deliver_mail(uow, jobs, mailer, clock)).sent == 0
    assert len(mailer.sent) == 2


async def test_a_mail_server_that_is_down_loses_no_mail(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    await queue(uow, jobs, seed, "a@acme.test")
    down = FakeMailer(down=True)
    report = await deliver_mail(uow, jobs, down, clock)
    assert (report.sent, report.failed) == (0, 1)
    [mail] = store.mails
    assert mail.sent_at is None and mail.claimed_at is None
    assert mail.last_error is not None and mail.last_error.startswith("ConnectionRefusedError")
    up = FakeMailer()
    assert (await deliver_mail(uow, jobs, up, clock)).sent == 1
    assert up.to("a@acme.test") == ["Your Stint trial ends in 3 days"]
    assert store.mails[0].attempts == 2


async def test_one_refused_recipient_does_not_hold_up_the_others(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed
) -> None:
    await queue(uow, jobs, seed, "a@acme.test", "bad@acme.test", "c@acme.test")
    mailer = FakeMailer(fail_for={"bad@acme.test"})
    report = await deliver_mail(uow, jobs, mailer, clock)
    assert (report.sent, report.failed) == (2, 1)


async def test_a_mail_whose_sender_died_mid_send_is_marked_in_doubt_and_never_sent_again(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, mailer: FakeMailer, clock: FixedClock, seed: Seed
) -> None:
    await queue(uow, jobs, seed, "a@acme.test", "b@acme.test")
    async with uow(write=True) as work:
        [first, _] = await jobs.pending_mail(10)
        assert await jobs.claim_mail(first, NOW) is not None  # a sender that then died
        await work.commit()
    assert (await deliver_mail(uow, jobs, mailer, clock)).sent == 1  # the other one only
    clock.advance(seconds=MAIL_LEASE_SECONDS + 1)
    report = await deliver_mail(uow, jobs, mailer, clock)
    assert (report.sent, report.in_doubt) == (0, 1)
    assert (await deliver_mail(uow, jobs, mailer, clock)).in_doubt == 0  # counted once
    assert mailer.to("a@acme.test") == []


async def test_a_send_that_may_have_reached_the_server_is_not_sent_again(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed
) -> None:
    await queue(uow, jobs, seed, "a@acme.test")

    class Dropped(FakeMailer):
        async def send(self, to: str, subject: str, body: str, *, to_name: str = "",
                       unsubscribe: str | None = None, locale: str = "en") -> None:
            raise MailInDoubt("the connection dropped after DATA")

    assert (await deliver_mail(uow, jobs, Dropped(), clock)).in_doubt == 1
    up = FakeMailer()
    clock.advance(seconds=MAIL_LEASE_SECONDS + 1)
    assert (await deliver_mail(uow, jobs, up, clock)).sent == 0
    assert up.to("a@acme.test") == []

"""Notification preferences (issue #19): a user's own choice per kind wins over the tenant's
default, which wins over "on"; the outbox refuses a mail whose kind its recipient turned off."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import FixedClock
from core.errors import ValidationFailed
from core.jobs.ports import MailDraft
from core.notifications import KINDS
from core.services.notification_preferences import (
    my_notifications,
    set_my_notifications,
    set_tenant_notifications,
    tenant_notifications,
)
from core.services.notifications import deliver_mail, queue_trial_reminders
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes.jobs import FakeJobStore, FakeMailer

from .conftest import TODAY, Seed, trial


@pytest.fixture
def jobs(store: FakeDatabase) -> FakeJobStore:
    return FakeJobStore(store)


async def test_a_user_who_never_chose_gets_every_kind(uow: FakeUnitOfWorkFactory, seed: Seed) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    assert await my_notifications(uow, tenant=tenant, user=ann) == dict.fromkeys(KINDS, True)


async def test_the_users_choice_wins_over_the_tenant_default_which_wins_over_on(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    boss = seed.admin(tenant)
    ann = seed.user(tenant, "ann@acme.test")
    await set_tenant_notifications(uow, clock, tenant=tenant, actor=boss,
                                   kinds={"missing_time": False, "timer_running": False})
    mine = await set_my_notifications(uow, tenant=tenant, user=ann, kinds={"missing_time": True})
    assert (mine["missing_time"], mine["timer_running"], mine["approvals"]) == (True, False, True)
    assert (await tenant_notifications(uow, tenant=tenant))["missing_time"] is False
    # The administrator's own settings follow the default they set, as they did not choose.
    assert (await my_notifications(uow, tenant=tenant, user=boss))["timer_running"] is False


async def test_an_unknown_kind_is_refused_and_nothing_is_stored(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    with pytest.raises(ValidationFailed):
        await set_my_notifications(uow, tenant=tenant, user=ann, kinds={"missing_time": False, "spam": True})
    assert await my_notifications(uow, tenant=tenant, user=ann) == dict.fromkeys(KINDS, True)


async def test_changing_the_tenant_defaults_is_audited(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    boss = seed.admin(tenant)
    await set_tenant_notifications(uow, clock, tenant=tenant, actor=boss, kinds={"approvals": False})
    assert [row.action for row in store.audit if row.action == "settings.notifications"] == [
        "settings.notifications"]


async def test_the_outbox_refuses_a_kind_its_recipient_turned_off(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant(subscription=trial(ends_on=TODAY + timedelta(days=3)))
    boss = seed.admin(tenant, "boss@acme.test")
    seed.user(tenant, "ceo@acme.test", collection_admin=True)
    await set_my_notifications(uow, tenant=tenant, user=boss, kinds={"trial_ending": False})
    assert await queue_trial_reminders(uow, jobs, clock) == 1
    assert [mail.draft.recipient for mail in store.mails] == ["ceo@acme.test"]


async def test_a_mail_nobody_can_turn_off_is_queued_whatever_the_defaults_say(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    boss = seed.admin(tenant, "boss@acme.test")
    await set_tenant_notifications(uow, clock, tenant=tenant, actor=boss, kinds=dict.fromkeys(KINDS, False))
    draft = MailDraft("retention_warning_7", tenant.id, TODAY, "boss@acme.test", "deleted soon", "text")
    assert await jobs.queue_mail(draft, clock.now()) is True
    refused = MailDraft("x", tenant.id, TODAY, "boss@acme.test", "s", "b", preference="trial_ending")
    assert await jobs.queue_mail(refused, clock.now()) is False


class Links:
    """Unsubscribe links as plain text, so a test can read what they name."""

    def link(self, tenant_id: str, user_id: str, kind: str) -> str:
        return f"https://stint.test/unsubscribe?token={tenant_id}.{user_id}.{kind}"


async def test_a_notification_carries_its_recipients_unsubscribe_link_and_a_warning_none(
    uow: FakeUnitOfWorkFactory, jobs: FakeJobStore, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant(subscription=trial(ends_on=TODAY + timedelta(days=3)))
    boss = seed.admin(tenant, "boss@acme.test")
    await queue_trial_reminders(uow, jobs, clock)
    await jobs.queue_mail(MailDraft("retention_warning_7", tenant.id, TODAY, "boss@acme.test", "s", "b"),
                          clock.now())
    mailer = FakeMailer()
    await deliver_mail(uow, jobs, mailer, clock, links=Links())
    by_subject = {mail.subject: mail for mail in mailer.sent}
    reminder = by_subject["Your Stint trial ends in 3 days"]
    link = f"https://stint.test/unsubscribe?token={tenant.id}.{boss.id}.trial_ending"
    assert reminder.unsubscribe == link and link in reminder.body
    assert reminder.to_name == boss.name
    assert by_subject["s"].unsubscribe is None and "unsubscribe" not in by_subject["s"].body

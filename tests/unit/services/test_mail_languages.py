"""Mails in each recipient's language (issue #21): the approval steps' mails go out in the
language of the person they are for, whatever the language of the person who acted; the
default without a catalogue wired in stays English."""

from __future__ import annotations

from datetime import timedelta

from core.clock import FixedClock
from core.services.approval_steps import change_week
from core.services.notifications import queue_trial_reminders
from core.services.profile import ProfileChange, update_profile
from core.services.reminders import queue_billing_mails
from core.texts import PLAIN
from plugins.i18n import texts_for
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes.jobs import FakeJobStore, FakeMailer

from .conftest import TODAY, Seed, due_invoice, trial
from .tracking_builders import THIS_WEEK


async def test_each_approval_mail_speaks_its_recipients_language(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    max_ = seed.user(tenant, "max@acme.test", approval_manager=True)
    await update_profile(uow, clock, tenant=tenant, user=ann, change=ProfileChange(locale="de"))
    mailer = FakeMailer()
    await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                      action="submit", mailer=mailer, language=texts_for)
    [to_max] = mailer.sent
    assert to_max.subject == f"Stint: {ann.name} submitted {THIS_WEEK}" and to_max.locale == "en"

    await change_week(uow, clock, tenant=tenant, actor=max_, owner_id=ann.id, week=THIS_WEEK,
                      action="reject", note="Dienstag fehlt", mailer=mailer, language=texts_for)
    to_ann = mailer.sent[-1]
    assert to_ann.to == "ann@acme.test" and to_ann.locale == "de"
    assert to_ann.subject == f"Stint: Ihre Woche {THIS_WEEK} wurde abgelehnt"
    assert f"{max_.name} hat Ihre Woche {THIS_WEEK} zurückgegeben:" in to_ann.body
    assert "Dienstag fehlt" in to_ann.body and "Ändern Sie sie und reichen Sie sie erneut ein:" in to_ann.body


async def test_without_a_language_every_mail_is_english_as_before(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant, "ann@acme.test")
    max_ = seed.user(tenant, "max@acme.test", approval_manager=True)
    await update_profile(uow, clock, tenant=tenant, user=ann, change=ProfileChange(locale="de"))
    mailer = FakeMailer()
    await change_week(uow, clock, tenant=tenant, actor=ann, owner_id=ann.id, week=THIS_WEEK,
                      action="submit", mailer=mailer)
    await change_week(uow, clock, tenant=tenant, actor=max_, owner_id=ann.id, week=THIS_WEEK,
                      action="approve", mailer=mailer)
    assert mailer.to("ann@acme.test") == [f"Stint: your week {THIS_WEEK} was approved"]


async def test_a_german_collection_admin_gets_the_invoice_mail_in_german_with_german_money(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    boss = seed.admin(tenant, "boss@acme.test")
    seed.user(tenant, "ceo@acme.test", collection_admin=True)
    await update_profile(uow, clock, tenant=tenant, user=boss, change=ProfileChange(locale="de"))
    invoice = seed.invoice(tenant, due_invoice(544_060, issued_on=TODAY))
    name = invoice.number_text or invoice.id
    assert await queue_billing_mails(uow, FakeJobStore(store), clock, language=texts_for) == 2
    mails = {m.draft.recipient: m.draft for m in store.mails}
    assert mails["boss@acme.test"].subject == f"Stint-Rechnung {name}: 5.440,60\xa0$"
    assert f"am {TODAY:%d.%m.%Y} die Rechnung {name} ausgestellt" in mails["boss@acme.test"].body
    assert mails["ceo@acme.test"].subject == f"Stint invoice {name}: 5,440.60 USD"


async def test_the_trial_reminder_uses_the_german_plural_and_the_english_one_as_before(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant(subscription=trial(ends_on=TODAY + timedelta(days=3)))
    boss = seed.admin(tenant, "boss@acme.test")
    seed.user(tenant, "ceo@acme.test", collection_admin=True)
    await update_profile(uow, clock, tenant=tenant, user=boss, change=ProfileChange(locale="de"))
    assert await queue_trial_reminders(uow, FakeJobStore(store), clock, language=texts_for) == 2
    mails = {m.draft.recipient: m.draft for m in store.mails}
    assert mails["boss@acme.test"].subject == "Ihre Stint-Testphase endet in 3 Tagen"
    assert f"endet in 3 Tagen, am {TODAY + timedelta(days=3):%d.%m.%Y}." in mails["boss@acme.test"].body
    assert mails["ceo@acme.test"].subject == "Your Stint trial ends in 3 days"
    one = PLAIN.plural("Your Stint trial ends in %(num)s day", "Your Stint trial ends in %(num)s days", 1)
    assert one == "Your Stint trial ends in 1 day"
    german = texts_for("de").plural("Your Stint trial ends in %(num)s day",
                                    "Your Stint trial ends in %(num)s days", 1)
    assert german == "Ihre Stint-Testphase endet in 1 Tag"

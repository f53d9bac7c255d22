"""Mails the calendar sends (SPEC §3): "trial ends in 3 days", retention warnings, and delivery.

Each mail is queued once in the outbox under (kind, tenant, date, recipient) in the same
transaction that decided to send it, and delivered by :func:`deliver_mail` after the
commit — so running a job twice, or on two workers at once, queues one mail, and a mail
server that is down loses nothing (the outbox keeps it until it is accepted).

Delivery is at most once per mail (the issue's "never two"): each mail is claimed in its
own committed write just before it is sent, and a claim is never taken back by time. A
sender that dies between the server accepting the mail and recording it leaves the claim
in place; the next run marks such a mail *in doubt* and does not send it again
(``docs/jobs.md``). A failure known to have sent nothing (no connection, a refusal)
releases the claim, and the next run tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from core.clock import Clock, today_in
from core.jobs.ports import JobStore, MailDraft, Mailer, MailInDoubt, QueuedMail
from core.notifications import LABELS, UnsubscribeLinks
from core.tenancy import Tenant
from core.texts import PLAIN, Language, Texts, english
from core.unit_of_work import UnitOfWorkFactory

__all__ = [
    "MAIL_LEASE_SECONDS",
    "TRIAL_REMINDERS",
    "TRIAL_REMINDER_DAYS",
    "DeliveryReport",
    "deliver_mail",
    "queue_trial_reminders",
    "retention_warning",
    "trial_reminder",
]

log = logging.getLogger("stint.jobs.mail")

#: Collection admins are told this many days before a trial ends: 3 (SPEC §11), and 7 and 1
#: (issue #19). Each reminder covers the days down to the next one, so a job that missed its
#: day still sends it, once: 7 → 7..4 days left, 3 → 3..2, 1 → the last day.
TRIAL_REMINDER_DAYS = 7
TRIAL_REMINDERS = (7, 3, 1)
#: The outbox kind of each reminder (the 3-day one keeps the kind it always had).
_TRIAL_KINDS = {7: "trial_ends_soon_7", 3: "trial_ends_soon", 1: "trial_ends_soon_1"}


def _trial_threshold(days_left: int) -> int | None:
    """The reminder whose band ``days_left`` falls in, or None outside the last week."""
    if not 1 <= days_left <= TRIAL_REMINDERS[0]:
        return None
    return min(t for t in TRIAL_REMINDERS if t >= days_left)
#: A claimed mail without a result after this long had a sender that died mid-send: it is
#: marked in doubt and not sent again (at most once: it may have been accepted already).
MAIL_LEASE_SECONDS = 600


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def trial_reminder(
    tenant: Tenant, recipient: str, ends_on: date, days_left: int, base_url: str, texts: Texts = PLAIN
) -> MailDraft:
    """The "trial ends in N days" mail to one collection admin, in their language."""
    t = texts
    body = (
        t.plural("The Stint trial of %(tenant)s (%(slug)s) ends in %(num)s day, on %(day)s.",
                 "The Stint trial of %(tenant)s (%(slug)s) ends in %(num)s days, on %(day)s.", days_left,
                 tenant=tenant.name, slug=tenant.slug, day=t.day(ends_on)) + "\n\n"
        + t.tr("When it ends without a purchase, time tracking stops for everyone; your data is kept.")
        + "\n"
        + t.tr("Buy a subscription on the Subscription page: %(url)s",
               url=base_url + "/settings/subscription")
        + "\n"
    )
    kind = _TRIAL_KINDS[_trial_threshold(days_left) or 3]
    subject = t.plural("Your Stint trial ends in %(num)s day", "Your Stint trial ends in %(num)s days",
                       days_left)
    return MailDraft(kind, tenant.id, ends_on, recipient, subject, body, preference="trial_ending")


def retention_warning(
    tenant: Tenant, recipient: str, purge_on: date, threshold: int, base_url: str
) -> MailDraft:
    """The "your data will be deleted" mail, ``threshold`` days (30, 7 or 1) ahead."""
    body = (
        f"The Stint subscription of {tenant.name} ({tenant.slug}) has expired. Its time-tracking "
        f"data will be deleted on {purge_on.isoformat()} (in about {_days(threshold)}).\n\n"
        f"Reactivate the subscription to keep it: {base_url}/settings/subscription\n"
    )
    return MailDraft(f"retention_warning_{threshold}", tenant.id, purge_on, recipient,
                     f"Stint data of {tenant.slug} will be deleted in {_days(threshold)}", body)


async def queue_trial_reminders(
    uow: UnitOfWorkFactory, jobs: JobStore, clock: Clock, *, base_url: str = "", language: Language = english
) -> int:
    """Queue the 7-, 3- and 1-day reminders to each collection admin of each trial ending
    within a week; how many.

    A reminder is keyed by its threshold and the trial's end date: a job that missed a day
    still sends it, an extended trial gets new ones, and no trial gets one twice.
    """
    today = today_in(clock)
    queued = 0
    async with uow(write=True) as work:
        # One day of slack each side for billing zones; the exact check is per tenant below.
        ending = await jobs.trials_ending(today, today + timedelta(days=TRIAL_REMINDER_DAYS + 1))
        for trial in ending:
            tenant, ends_on = trial.tenant, trial.on
            days_left = (ends_on - today_in(clock, tenant.time_zone)).days
            if _trial_threshold(days_left) is None or tenant.uninstalled:
                continue
            for email in await jobs.collection_admin_emails(tenant.id):
                # In the admin's own language (English for an address that is no user).
                admin = await work.tenant(tenant.id).users().by_email(email)
                texts = language(admin.locale if admin else "en")
                draft = trial_reminder(tenant, email, ends_on, days_left, base_url, texts)
                queued += int(await jobs.queue_mail(draft, clock.now()))
        await work.commit()
    return queued


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    in_doubt: int = 0
    """Mails that may have reached the server without being recorded: never sent again."""


def _unsubscribe(
    mail: QueuedMail, links: UnsubscribeLinks | None, texts: Texts = PLAIN
) -> tuple[str, str | None]:
    """The body with its unsubscribe footer, and the one-click address (notifications to a
    user of the tenant only: a mail nobody can refuse, or to another address, has neither)."""
    if links is None or mail.preference is None or not mail.user_id:
        return mail.body, None
    url = links.link(mail.tenant_id, mail.user_id, mail.preference)
    label = texts.tr(LABELS.get(mail.preference, mail.preference))
    footer = (
        "\n--\n" + texts.tr("You get this mail because of your notification setting \"%(label)s\".",
                             label=label)
        + "\n" + texts.tr("Stop these mails with one click: %(url)s", url=url) + "\n"
    )
    return mail.body.rstrip("\n") + "\n" + footer, url


async def _reader(uow: UnitOfWorkFactory, mail: QueuedMail, language: Language) -> Texts:
    """The recipient's language when they are a user of the tenant (their profile), else English."""
    if not mail.user_id or not mail.tenant_id:
        return PLAIN
    async with uow() as work:
        user = await work.tenant(mail.tenant_id).users().get(mail.user_id)
    return language(user.locale) if user is not None else PLAIN


async def deliver_mail(
    uow: UnitOfWorkFactory, jobs: JobStore, mailer: Mailer, clock: Clock, *, limit: int = 200,
    links: UnsubscribeLinks | None = None, language: Language = english,
) -> DeliveryReport:
    """Send what the outbox holds, one mail at a time: claim it (committed), send, record
    the result (committed).

    Two senders never claim the same mail. A claim older than ``MAIL_LEASE_SECONDS`` without
    a result is a sender that died mid-send: the mail may have been accepted, so it is marked
    in doubt rather than sent again. A notification carries a signed one-click unsubscribe
    link for its kind (``links``).
    """
    report = DeliveryReport()
    now = clock.now()
    async with uow(write=True) as work:
        report.in_doubt = await jobs.mails_abandoned(now - timedelta(seconds=MAIL_LEASE_SECONDS), now)
        pending = await jobs.pending_mail(limit)
        await work.commit()
    if report.in_doubt:
        log.warning("mails in doubt (a sender stopped mid-send): not sent again",
                    extra={"count": report.in_doubt})
    for mail_id in pending:
        # Claimed just before its send, so a crash leaves at most this one mail in doubt.
        async with uow(write=True) as work:
            mail = await jobs.claim_mail(mail_id, clock.now())
            await work.commit()
        if mail is None:
            continue  # another sender has it
        try:
            texts = await _reader(uow, mail, language)
            body, unsubscribe = _unsubscribe(mail, links, texts)
            await mailer.send(mail.recipient, mail.subject, body, to_name=mail.recipient_name,
                              unsubscribe=unsubscribe, locale=texts.locale)
        except MailInDoubt as exc:
            log.warning("mail may have been sent; not sent again", extra={"mail": mail.id})
            async with uow(write=True) as work:
                await jobs.mail_in_doubt(mail.id, f"{type(exc).__name__}: {exc}", clock.now())
                await work.commit()
            report.in_doubt += 1
            continue
        except Exception as exc:  # not accepted: the mail stays in the outbox; the next run tries again
            log.warning("mail not sent; will retry", extra={"mail": mail.id, "attempts": mail.attempts})
            async with uow(write=True) as work:
                await jobs.mail_failed(mail.id, f"{type(exc).__name__}: {exc}")
                await work.commit()
            report.failed += 1
            continue
        async with uow(write=True) as work:
            await jobs.mail_sent(mail.id, clock.now())
            await work.commit()
        report.sent += 1
    return report

"""Notification jobs of issue #19: missing time (weekly, with a digest for approval managers),
a timer still running at the end of the working day, and users refused for lack of a seat.

Each mail is queued in the outbox under (kind, tenant, period, recipient) in the transaction
that decided it — the outbox's unique key is the record of what was sent — so a job run twice,
or on two workers, or after a crash, queues nothing more. The recipient's notification
preference is checked by the outbox itself (``JobStore.queue_mail``), the one place every
notification passes.

Periods are the user's own: a week is Monday to Sunday in their time zone (their tracking
preference, else the tenant's). A reminder for a week goes out on the first run in the first
:data:`REMIND_DAYS` days after it ended (so a job that missed Monday morning still sends it,
once, and a late one does not nag about a week long gone); weeks that ended before the
tenant existed are never reminded of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.audit import AuditQuery
from core.clock import Clock
from core.jobs.ports import JobStore, MailDraft
from core.tenancy import Tenant, User
from core.texts import Language, Texts, english
from core.tracking.weeks import WeekId, week_of, zone
from core.unit_of_work import TenantScope, UnitOfWorkFactory
from core.working_hours import DEFAULT_WORKING_HOURS, WorkingHours, expected_minutes

__all__ = [
    "DAY_STARTS_AT",
    "REMIND_DAYS",
    "Shortfall",
    "queue_billing_mails",
    "queue_missing_time",
    "queue_running_timers",
    "queue_seat_requests",
]

#: Working hours say how long, not when: a working day is taken to start at 09:00 local time
#: and to end after the day's expected hours (17:00 for 8 h), and never before 17:00 — so a
#: short or free day does not remind someone whose timer runs at noon.
DAY_STARTS_AT = time(9, 0)
_LATEST_EARLY_END = time(17, 0)
#: Monday to Wednesday: the days after a week ends on which its reminder may still go out.
REMIND_DAYS = 3


@dataclass(frozen=True, slots=True)
class Shortfall:
    user: User
    week: WeekId
    expected_minutes: int
    tracked_minutes: int


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if not rest else f"{hours} h {rest:02d} min"


async def _all_users(scope: TenantScope) -> list[User]:
    users: list[User] = []
    after = ""
    while True:
        page = await scope.users().list(after=after, limit=500)
        users.extend(page)
        if len(page) < 500:
            return users
        after = page[-1].id


async def _tenants(jobs: JobStore, uow: UnitOfWorkFactory) -> list[Tenant]:
    found: list[Tenant] = []
    after = ""
    async with uow():  # the store answers inside the unit of work
        while True:
            page = await jobs.live_tenants(after=after, limit=500)
            found.extend(page)
            if len(page) < 500:
                return found
            after = page[-1].id


def _by_id(*groups: list[Tenant]) -> list[Tenant]:
    """Tenants of several cross-tenant answers, once each, by id.

    The mail jobs that react to recent events ask the store which tenants had such an
    event instead of opening a transaction per live tenant: that made each run take
    seconds with a few hundred tenants and, on a short period, starved the other jobs
    (the renewals among them) of workers.
    """
    return sorted({tenant.id: tenant for group in groups for tenant in group}.values(), key=lambda t: t.id)


def _reminding_somewhere(now: datetime) -> bool:
    """Whether some zone on Earth (UTC−12 to UTC+14) is within its reminder days now: the
    local dates range from 12 hours behind to 14 hours ahead (up to three dates)."""
    first, last = (now - timedelta(hours=12)).date(), (now + timedelta(hours=14)).date()
    return any((first + timedelta(days=n)).weekday() < REMIND_DAYS for n in range((last - first).days + 1))


def _last_week(now: datetime, time_zone: str) -> WeekId | None:
    """The week that ended at most ``REMIND_DAYS`` days ago in ``time_zone``, else None."""
    today = now.astimezone(zone(time_zone)).date()
    return week_of(today - timedelta(days=7)) if today.weekday() < REMIND_DAYS else None


async def _shortfall(
    scope: TenantScope, tenant: Tenant, user: User, time_zone: str, week: WeekId
) -> Shortfall | None:
    """``user``'s shortfall in ``week`` (last week in ``time_zone``), or None."""
    start = datetime.combine(week.monday, time(), tzinfo=zone(time_zone))
    if start + timedelta(days=7) <= tenant.created_at:
        return None
    hours: WorkingHours = await scope.working_hours().get(user.id) or DEFAULT_WORKING_HOURS
    expected = expected_minutes(hours, week.monday, week.monday + timedelta(days=6))
    if expected <= 0:
        return None
    logs = await scope.tracking().worklogs(user_id=user.id, start=start, end=start + timedelta(days=7))
    tracked = sum(log.length_s for log in logs) // 60
    return Shortfall(user, week, expected, tracked) if tracked < expected else None


async def queue_missing_time(
    uow: UnitOfWorkFactory, jobs: JobStore, clock: Clock, *, base_url: str = "", language: Language = english
) -> int:
    """For last week (each user's zone): a reminder to each licensed user who tracked less
    than expected, and one digest per approval manager naming them; how many mails queued.
    Each mail is in its recipient's language (``language``, by their profile's locale)."""
    queued = 0
    now = clock.now()
    if not _reminding_somewhere(now):
        return 0  # most of the week no zone is in its reminder days: nothing to look at
    for tenant in await _tenants(jobs, uow):
        async with uow(write=True) as work:
            scope = work.tenant(tenant.id)
            zones = await scope.tracking().time_zones()
            users = await _all_users(scope)
            short: list[Shortfall] = []
            for user in users:
                user_zone = zones.get(user.id, tenant.time_zone)
                # The week first: outside its zone's reminder days a user costs no query.
                week = _last_week(now, user_zone)
                if week is None or not await scope.seats().is_licensed(user.person_id):
                    continue
                found = await _shortfall(scope, tenant, user, user_zone, week)
                if found is None:
                    continue
                short.append(found)
                missing = found.expected_minutes - found.tracked_minutes
                t = language(user.locale)
                sheet = f"{base_url}/time?week={found.week}"
                body = (
                    t.tr("Hello %(name)s,", name=user.name or user.email) + "\n\n"
                    + t.tr("In week %(week)s you tracked %(tracked)s of the %(expected)s expected"
                           " (%(missing)s missing).", week=found.week, tracked=_hours(found.tracked_minutes),
                           expected=_hours(found.expected_minutes), missing=_hours(missing)) + "\n\n"
                    + t.tr("Fill in your timesheet: %(url)s", url=sheet) + "\n"
                )
                subject = t.tr("Your Stint time for %(week)s is missing %(missing)s", week=found.week,
                               missing=_hours(missing))
                draft = MailDraft("missing_time", tenant.id, found.week.monday, user.email, subject, body,
                                  preference="missing_time")
                queued += int(await jobs.queue_mail(draft, now))
            managers = [u for u in users if u.approval_manager]
            if short:
                # The digest is keyed by the oldest week it covers: users in other zones may
                # be a week apart right after midnight, the manager still gets one a week.
                week = min(s.week for s in short)
                lines = "\n".join(
                    f"- {s.user.name or s.user.email} ({s.user.email}): {_hours(s.tracked_minutes)} of "
                    f"{_hours(s.expected_minutes)} in {s.week}"
                    for s in sorted(short, key=lambda s: s.user.email)
                )
                for manager in managers:
                    body = (
                        f"Hello {manager.name or manager.email},\n\n"
                        f"These people tracked less time than expected last week:\n\n{lines}\n\n"
                        f"Review timesheets: {base_url}/time\n"
                    )
                    draft = MailDraft("missing_time_digest", tenant.id, week.monday, manager.email,
                                      f"Missing time in {tenant.name}: {len(short)} "
                                      f"{'person' if len(short) == 1 else 'people'} ({week})", body,
                                      preference="missing_time")
                    queued += int(await jobs.queue_mail(draft, now))
            await work.commit()
    return queued


def _day_ends(day: date, hours: WorkingHours, time_zone: str) -> datetime:
    expected = 0 if day in hours.days_off else hours.minutes[day.weekday()]
    start = datetime.combine(day, DAY_STARTS_AT, tzinfo=zone(time_zone))
    earliest = datetime.combine(day, _LATEST_EARLY_END, tzinfo=zone(time_zone))
    return max(start + timedelta(minutes=expected), earliest)


async def queue_running_timers(
    uow: UnitOfWorkFactory, jobs: JobStore, clock: Clock, *, base_url: str = "", language: Language = english
) -> int:
    """One mail a day to each user whose timer still runs after their working day ended."""
    queued = 0
    now = clock.now()
    async with uow():  # only where a timer runs (see ``_by_id``)
        timing = await jobs.tenants_timing()
    for tenant in timing:
        async with uow(write=True) as work:
            scope = work.tenant(tenant.id)
            timers = await scope.tracking().timers()
            if not timers:
                continue
            zones = await scope.tracking().time_zones()
            for timer in timers:
                user = await scope.users().get(timer.user_id)
                if user is None:
                    continue
                time_zone = zones.get(user.id, tenant.time_zone)
                today = now.astimezone(zone(time_zone)).date()
                hours = await scope.working_hours().get(user.id) or DEFAULT_WORKING_HOURS
                ends = _day_ends(today, hours, time_zone)
                if now < ends or timer.started_at >= ends:
                    continue
                local_start = timer.started_at.astimezone(zone(time_zone))
                t = language(user.locale)
                body = (
                    t.tr("Hello %(name)s,", name=user.name or user.email) + "\n\n"
                    + t.tr("Your Stint timer has been running since %(start)s (%(zone)s) and your working"
                           " day has ended.", start=t.moment(local_start), zone=time_zone) + "\n\n"
                    + t.tr("Stop it or keep it running: %(url)s", url=base_url + "/time") + "\n"
                )
                draft = MailDraft("timer_running", tenant.id, today, user.email,
                                  t.tr("Your Stint timer is still running"), body, preference="timer_running")
                queued += int(await jobs.queue_mail(draft, now))
            await work.commit()
    return queued


async def _readers(scope: TenantScope, emails: list[str], language: Language) -> list[tuple[str, Texts]]:
    """Each address with its user's language (English for an address that is no user)."""
    found = [(email, await scope.users().by_email(email)) for email in emails]
    return [(email, language(user.locale if user else "en")) for email, user in found]


async def queue_seat_requests(
    uow: UnitOfWorkFactory, jobs: JobStore, clock: Clock, *, base_url: str = "", lookback_days: int = 2,
    language: Language = english,
) -> int:
    """A mail to each collection admin for each user refused for lack of a seat (the access
    check's ``seat.unavailable`` audit row, written at most once a day per user): once per
    refused user per day, with a link to the Subscription page."""
    queued = 0
    now = clock.now()
    since = now - timedelta(days=lookback_days)
    async with uow():  # only the tenants that refused someone lately (see ``_by_id``)
        refusing = await jobs.tenants_audited("seat.unavailable", since)
    for tenant in refusing:
        async with uow(write=True) as work:
            scope = work.tenant(tenant.id)
            rows = [r for r in await scope.audit().page(AuditQuery(action="seat.unavailable", limit=500))
                    if r.at >= since]
            if not rows:
                continue
            admins = await _readers(scope, await jobs.collection_admin_emails(tenant.id), language)
            page = f"{base_url}/settings/subscription"
            for row in rows:
                refused = row.actor.removeprefix("user:")
                day = row.at.astimezone(zone(tenant.time_zone)).date()
                for email, t in admins:
                    body = (
                        t.tr("%(who)s tried to use Stint in %(tenant)s (%(slug)s) on %(day)s and was refused:"
                             " no licence (seat) is free.", who=row.subject, tenant=tenant.name,
                             slug=tenant.slug, day=t.day(day)) + "\n\n"
                        + t.tr("Add seats or free one on the Subscription page: %(url)s", url=page) + "\n"
                    )
                    draft = MailDraft(f"seat_request_{refused}"[:64], tenant.id, day, email,
                                      t.tr("%(who)s needs a Stint licence", who=row.subject), body,
                                      preference="seat_requests")
                    queued += int(await jobs.queue_mail(draft, now))
            await work.commit()
    return queued


async def queue_billing_mails(
    uow: UnitOfWorkFactory, jobs: JobStore, clock: Clock, *, base_url: str = "", lookback_days: int = 3,
    language: Language = english,
) -> int:
    """To each collection admin: one mail per invoice issued (with something to pay) and one
    per failed payment (the billing events' ``invoice.payment_failed`` audit row), found in the
    last ``lookback_days``; each keyed by its invoice, so a re-run or a retry sends none twice."""
    queued = 0
    now = clock.now()
    # Only the tenants with something recent to tell (see ``_tenants_with``). A day of slack
    # on the invoice side covers every zone's "today"; each is checked exactly below.
    async with uow():
        invoiced = await jobs.tenants_invoiced((now - timedelta(days=lookback_days + 1)).date())
        failing = await jobs.tenants_audited("invoice.payment_failed", now - timedelta(days=lookback_days))
    for tenant in _by_id(invoiced, failing):
        async with uow(write=True) as work:
            scope = work.tenant(tenant.id)
            today = now.astimezone(zone(tenant.time_zone)).date()
            issued = [
                listed.invoice for listed in await scope.invoices().list(limit=50)
                if listed.invoice.issued_on >= today - timedelta(days=lookback_days)
                and listed.invoice.amount_due > 0 and listed.invoice.status != "void"
            ]
            rows = await scope.audit().page(AuditQuery(action="invoice.payment_failed", limit=100))
            failed = [r for r in rows if r.at >= now - timedelta(days=lookback_days)]
            if not issued and not failed:
                continue
            admins = await _readers(scope, await jobs.collection_admin_emails(tenant.id), language)
            page = f"{base_url}/settings/subscription"
            for email, t in admins:
                drafts = []
                for invoice in issued:
                    name = invoice.number_text or invoice.id
                    amount = t.money(invoice.amount_due, invoice.currency)
                    body = (
                        t.tr("Stint issued invoice %(number)s to %(tenant)s (%(slug)s) on %(day)s:"
                             " %(amount)s to pay.", number=name, tenant=tenant.name, slug=tenant.slug,
                             day=t.day(invoice.issued_on), amount=amount) + "\n\n"
                        + t.tr("See it on the Subscription page: %(url)s", url=page) + "\n"
                    )
                    subject = t.tr("Stint invoice %(number)s: %(amount)s", number=name, amount=amount)
                    drafts.append((f"invoice_issued_{invoice.id}", invoice.issued_on, subject, body,
                                   "invoice_issued"))
                for row in failed:
                    day = row.at.astimezone(zone(tenant.time_zone)).date()
                    body = (
                        t.tr("A payment for the Stint subscription of %(tenant)s (%(slug)s) failed"
                             " on %(day)s.", tenant=tenant.name, slug=tenant.slug, day=t.day(day)) + "\n\n"
                        + t.tr("Check the payment method on the Subscription page, or Stint stops when"
                               " the grace period ends: %(url)s", url=page) + "\n"
                    )
                    drafts.append((f"payment_failed_{row.subject}", day, t.tr("A Stint payment failed"), body,
                                   "payment_failed"))
                for kind, on, subject, body, preference in drafts:
                    draft = MailDraft(kind[:64], tenant.id, on, email, subject, body, preference=preference)
                    queued += int(await jobs.queue_mail(draft, now))
            await work.commit()
    return queued

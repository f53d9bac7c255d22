"""The approval queue (issue #17): who decides whose weeks, the week's steps with their
mails, the queue itself, the tenant's approval settings and the job that writes the
calendar's locks down.

Who may decide a week is the pure rule :func:`core.tracking.may_decide`; this module only
loads its facts (the actor's flag, the owner's approvers). Mails go after the commit, so a
mail server that is down loses no decision (as the timer stops do).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from core.clock import Clock, today_in
from core.errors import NotFound, ValidationFailed
from core.jobs.ports import Mailer
from core.notifications import allows
from core.tenancy import Tenant, User
from core.texts import Language, english
from core.tracking import (
    LOCKED_STATUSES,
    LockPolicy,
    WeekId,
    WeekRecord,
    WeekStatus,
    approve_week,
    check_note,
    close_week,
    may_decide,
    parse_week_id,
    reject_week,
    reopen_week,
    revoke_week,
    submit_week,
    week_of,
)
from core.tracking.explorer import week_window
from core.tracking.ports import TrackingDirectory
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .timer_locks import ensure_no_timer_inside
from .tracking_common import all_users

__all__ = [
    "ApprovalSettings",
    "QueueItem",
    "WeekAction",
    "approval_queue",
    "approval_settings",
    "approvers_of",
    "change_week",
    "deciders",
    "materialise_locks",
    "people_approved_by",
    "save_approval_settings",
    "set_approvers",
]

#: The notification kind of every approval mail (core.notifications.KINDS).
APPROVALS = "approvals"

log = logging.getLogger("stint.approvals")

WeekAction = Literal["submit", "approve", "reject", "close", "reopen", "revoke"]

#: How far back the lock job looks for weeks to write down as closed: weeks locked
#: longer ago were written down by an earlier run (the rule locks them on read anyway).
_SWEEP_WEEKS = 8


# Who decides ---------------------------------------------------------------------------


async def _may_decide(scope: TenantScope, actor: User, owner_id: str) -> bool:
    approvers = (await scope.tracking().approvers(owner_id)).get(owner_id, [])
    return may_decide(
        actor.id, actor_is_global_manager=actor.approval_manager, owner_id=owner_id, owner_approvers=approvers
    )


async def people_approved_by(scope: TenantScope, actor: User) -> frozenset[str] | None:
    """Whose weeks ``actor`` decides: None for everyone (a global approval manager)."""
    if actor.approval_manager:
        return None
    # Never themselves: an approver does not decide their own weeks (see may_decide).
    return frozenset(await scope.tracking().approvees(actor.id)) - {actor.id}


async def deciders(uow: UnitOfWorkFactory, *, tenant: Tenant, actor: User) -> frozenset[str] | None:
    """:func:`people_approved_by` in a unit of work of its own (the nav, the explorer)."""
    async with uow() as work:
        return await people_approved_by(work.tenant(tenant.id), actor)


async def approvers_of(
    uow: UnitOfWorkFactory, *, tenant: Tenant, user_id: str | None = None
) -> dict[str, list[str]]:
    """Each user's approvers (or one user's); 404 for a user who does not exist."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        if user_id is not None and await scope.users().get(user_id) is None:
            raise NotFound("there is no such user", field="id")
        return await scope.tracking().approvers(user_id)


async def set_approvers(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, user_id: str,
    approver_ids: Sequence[str],
) -> list[str]:
    """Replace a user's approvers (each a user of this tenant, not the user themselves)."""
    wanted = sorted(set(approver_ids))
    if user_id in wanted:
        raise ValidationFailed("a user cannot approve their own weeks", field="approver_ids")
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        users = scope.users()
        if await users.get(user_id) is None:
            raise NotFound("there is no such user", field="id")
        unknown = [approver for approver in wanted if await users.get(approver) is None]
        if unknown:
            raise ValidationFailed(
                "these approvers are not users of this tenant", field="approver_ids", unknown=unknown
            )
        now = clock.now()
        await scope.tracking().set_approvers(user_id, wanted, now)
        await scope.audit().record(f"user:{actor.id}", "user.approvers_changed", user_id,
                                   {"approver_ids": wanted}, now)
        await work.commit()
    return wanted


# A week's steps ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Mail:
    user_id: str
    to: str
    subject: str
    body: str
    locale: str = "en"


def _step(
    record: WeekRecord, action: WeekAction, *, actor: User, allowed: bool, note: str | None, now: datetime,
    locked_by_date: bool = False,
) -> WeekRecord:
    """The record after ``action``, by the pure rules."""
    status = record.status
    if action == "submit":
        new = submit_week(status, actor_id=actor.id, owner_id=record.user_id)
        return replace(record, status=new, submitted_at=now, decided_by=None, decided_at=None, note=None)
    if action == "revoke":
        new = revoke_week(status, actor_id=actor.id, owner_id=record.user_id)
        return replace(record, status=new, submitted_at=None, note=None)
    if action == "reject":
        new = reject_week(status, may_decide=allowed)
        text = check_note(note)
        return replace(record, status=new, decided_by=actor.id, decided_at=now, note=text)
    if action == "approve":
        new = approve_week(status, may_decide=allowed)
    elif action == "close":
        new = close_week(status, may_decide=allowed)
    else:
        new = reopen_week(status, may_decide=allowed, locked_by_date=locked_by_date)
    return replace(record, status=new, decided_by=actor.id, decided_at=now, note=None)


async def _mails(
    scope: TenantScope, record: WeekRecord, action: WeekAction, actor: User, base_url: str,
    language: Language = english,
) -> list[_Mail]:
    """The step's mails to the people whose notification settings allow ``approvals`` (their
    own choice, else the tenant's default: core.notifications)."""
    settings = scope.notifications()
    defaults = await settings.tenant_defaults()
    return [
        mail for mail in await _drafts(scope, record, action, actor, base_url, language)
        if allows(APPROVALS, await settings.user_choices(mail.user_id), defaults)
    ]


async def _drafts(
    scope: TenantScope, record: WeekRecord, action: WeekAction, actor: User, base_url: str,
    language: Language = english,
) -> list[_Mail]:
    """Each mail in its recipient's language (their profile's locale)."""
    users = scope.users()
    owner = await users.get(record.user_id)
    if owner is None:
        return []
    week = record.week
    if action == "submit":
        approver_ids = (await scope.tracking().approvers(owner.id)).get(owner.id, [])
        if approver_ids:
            found = [await users.get(i) for i in approver_ids]
            recipients = [u for u in found if u is not None]
        else:
            # Nobody named: the global approval managers decide everyone's weeks.
            recipients = [u for u in await all_users(scope) if u.approval_manager]
        queue = f"{base_url}/approvals?state=submitted&week={week}&user={owner.id}"
        drafts = []
        for u in recipients:
            if u.id == owner.id:
                continue
            t = language(u.locale)
            body = t.tr("%(name)s submitted the week %(week)s for approval.", name=owner.name, week=week)
            subject = t.tr("Stint: %(name)s submitted %(week)s", name=owner.name, week=week)
            drafts.append(_Mail(u.id, u.email, subject, f"{body}\n\n{queue}\n", t.locale))
        return drafts
    sheet = f"{base_url}/time?week={week}"
    t = language(owner.locale)
    if action == "approve":
        body = t.tr("%(name)s approved your week %(week)s.", name=actor.name, week=week) + f"\n\n{sheet}\n"
        subject = t.tr("Stint: your week %(week)s was approved", week=week)
        return [_Mail(owner.id, owner.email, subject, body, t.locale)]
    if action == "reject":
        body = (
            t.tr("%(name)s sent your week %(week)s back:", name=actor.name, week=week)
            + f"\n\n{record.note}\n\n" + t.tr("Change it and submit it again: %(url)s", url=sheet) + "\n"
        )
        subject = t.tr("Stint: your week %(week)s was rejected", week=week)
        return [_Mail(owner.id, owner.email, subject, body, t.locale)]
    return []


async def change_week(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, owner_id: str,
    week: WeekId, action: WeekAction, note: str | None = None, mailer: Mailer | None = None,
    base_url: str = "", language: Language = english,
) -> WeekRecord:
    """Submit or revoke (the owner); approve, reject with a note, close or reopen (one of
    the owner's approvers or a global approval manager). Mails the people involved after
    the commit when ``mailer`` is given."""
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        if await scope.users().get(owner_id) is None:
            raise NotFound("there is no such user", field="user_id")
        repo = scope.tracking()
        await repo.lock_user(owner_id)
        record = await repo.week_record(owner_id, str(week))
        allowed = action in ("submit", "revoke") or await _may_decide(scope, actor, owner_id)
        now = clock.now()
        by_date = False
        if action == "reopen":
            lock = (await repo.rules()).lock.as_of(today_in(clock))
            by_date = lock.locked_until is not None and week.monday + timedelta(days=6) <= lock.locked_until
        new = _step(record, action, actor=actor, allowed=allowed, note=note, now=now, locked_by_date=by_date)
        if new.status in LOCKED_STATUSES:
            await ensure_no_timer_inside(repo, tenant, owner_id, week)
        await repo.save_week(new, actor.id, now)
        detail = {"note": new.note} if action == "reject" else {}
        await scope.audit().record(f"user:{actor.id}", f"week.{action}", f"{owner_id}/{week}", detail, now)
        mails = await _mails(scope, new, action, actor, base_url, language) if mailer is not None else []
        await work.commit()
    if mailer is not None:
        for mail in mails:
            try:
                await mailer.send(mail.to, mail.subject, mail.body, locale=mail.locale)
            except Exception:
                # The step is committed; a lost notice must not undo it.
                log.exception("could not mail an approval step", extra={"action": action})
    return new


# The queue -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueItem:
    user: User
    record: WeekRecord
    tracked_s: int
    billable_s: int


async def approval_queue(
    uow: UnitOfWorkFactory, *, tenant: Tenant, actor: User, states: Collection[WeekStatus],
    week: str | None = None, user_id: str | None = None, skip: int = 0, limit: int = 200,
) -> list[QueueItem]:
    """The weeks in ``states`` that ``actor`` may decide, newest week first (then by user
    id), with totals; ``skip`` the first ones (the page's position)."""
    week_id = None if week is None else str(parse_week_id(week))
    async with uow() as work:
        scope = work.tenant(tenant.id)
        people = await people_approved_by(scope, actor)
        if user_id is not None:
            people = frozenset({user_id}) if people is None or user_id in people else frozenset()
        repo = scope.tracking()
        records = await repo.week_records(statuses=states, user_ids=people, week=week_id, limit=skip + limit)
        records = records[skip:]
        zones = await repo.time_zones()
        items: list[QueueItem] = []
        for record in records:
            owner = await scope.users().get(record.user_id)
            if owner is None:
                continue
            time_zone = zones.get(owner.id) or tenant.time_zone
            window = week_window(owner.id, parse_week_id(record.week), time_zone)
            worklogs = await repo.worklogs(user_id=owner.id, start=window.start, end=window.end)
            items.append(QueueItem(
                owner, record, sum(w.length_s for w in worklogs), sum(w.billable_length_s for w in worklogs)
            ))
    return items


# Settings and the lock job ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApprovalSettings:
    start_date: date | None = None
    auto_lock_after_days: int | None = None


async def approval_settings(uow: UnitOfWorkFactory, *, tenant: Tenant) -> ApprovalSettings:
    async with uow() as work:
        lock = (await work.tenant(tenant.id).tracking().rules()).lock
    return ApprovalSettings(lock.approval_start, lock.auto_lock_after_days)


async def save_approval_settings(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, settings: ApprovalSettings
) -> ApprovalSettings:
    if settings.auto_lock_after_days is not None and settings.auto_lock_after_days < 0:
        raise ValidationFailed("auto_lock_after_days cannot be negative", field="auto_lock_after_days")
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        repo = scope.tracking()
        before = (await repo.rules()).lock
        now = clock.now()
        await repo.save_approval_settings(settings.start_date, settings.auto_lock_after_days, now)
        detail = {
            "start_date": settings.start_date.isoformat() if settings.start_date else None,
            "auto_lock_after_days": settings.auto_lock_after_days,
            "before": {
                "start_date": before.approval_start.isoformat() if before.approval_start else None,
                "auto_lock_after_days": before.auto_lock_after_days,
            },
        }
        await scope.audit().record(f"user:{actor.id}", "approval.settings_changed", tenant.slug, detail, now)
        await work.commit()
    return settings


def _rule_locked_weeks(lock: LockPolicy, today: date) -> list[WeekId]:
    """The last weeks the approval settings lock (at most ``_SWEEP_WEEKS``), newest first."""
    last = lock.rule_locked_until(today)
    if last is None:
        return []
    week = week_of(last)
    return [week_of(week.monday - timedelta(weeks=back)) for back in range(_SWEEP_WEEKS)]


async def materialise_locks(uow: UnitOfWorkFactory, clock: Clock, directory: TrackingDirectory) -> int:
    """Write ``closed`` down for the weeks with worklogs that the approval settings lock.

    The lock itself is applied on every read (``LockPolicy.as_of``); this only makes the
    stored status say so, for the queue and the reports. Idempotent.
    """
    closed = 0
    for tenant_id in await directory.tenants_with_auto_lock():
        async with uow(write=True) as work:
            scope = work.tenant(tenant_id)
            repo = scope.tracking()
            lock = (await repo.rules()).lock
            now = clock.now()
            weeks = _rule_locked_weeks(lock, today_in(clock))
            if not weeks:
                continue
            zones = await repo.time_zones()
            tenant = await work.directory.tenant_by_id(tenant_id)
            if tenant is None or tenant.uninstalled:
                continue
            tenant_zone = tenant.time_zone
            for user in await all_users(scope):
                for week in weeks:
                    record = await repo.week_record(user.id, str(week))
                    if record.status in LOCKED_STATUSES:
                        continue
                    window = week_window(user.id, week, zones.get(user.id) or tenant_zone)
                    if not await repo.worklogs(user_id=user.id, start=window.start, end=window.end, limit=1):
                        continue
                    await repo.save_week(replace(record, status=WeekStatus.CLOSED), "system", now)
                    await scope.audit().record("system", "week.close", f"{user.id}/{week}",
                                               {"by": "approval settings"}, now)
                    closed += 1
            await work.commit()
    return closed

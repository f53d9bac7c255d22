"""A week's approval steps (issue #17): submit and revoke (the week's owner); approve,
reject with a note, close and reopen (one of the owner's approvers or a global approval
manager), with the mails each step sends.

Who may decide a week is the pure rule :func:`core.tracking.may_decide`; this module only
loads its facts (the actor's flag, the owner's approvers). Mails go after the commit, so a
mail server that is down loses no decision (as the timer stops do).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from core.clock import Clock, today_in
from core.errors import NotFound
from core.jobs.ports import Mailer
from core.notifications import allows
from core.tenancy import Tenant, User
from core.texts import Language, english
from core.tracking import (
    LOCKED_STATUSES,
    WeekId,
    WeekRecord,
    approve_week,
    check_note,
    close_week,
    may_decide,
    reject_week,
    reopen_week,
    revoke_week,
    submit_week,
)
from core.unit_of_work import TenantScope, UnitOfWorkFactory

from .timer_locks import ensure_no_timer_inside
from .tracking_common import all_users

__all__ = ["WeekAction", "change_week"]


#: The notification kind of every approval mail (core.notifications.KINDS).
APPROVALS = "approvals"

log = logging.getLogger("stint.approvals")

WeekAction = Literal["submit", "approve", "reject", "close", "reopen", "revoke"]


async def _may_decide(scope: TenantScope, actor: User, owner_id: str) -> bool:
    approvers = (await scope.tracking().approvers(owner_id)).get(owner_id, [])
    return may_decide(
        actor.id, actor_is_global_manager=actor.approval_manager, owner_id=owner_id, owner_approvers=approvers
    )


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

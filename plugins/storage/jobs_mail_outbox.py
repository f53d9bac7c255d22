"""The mail outbox (``mail_outbox``): the jobs' mails, queued once each inside the unit of
work that decided to send them, then claimed, sent and marked at most once by the mail job.
A part of ``PiccoloJobStore`` (``jobs_repo.py``), with ``insert_once``, the insert both
this and the retention notices use to record something once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.engine.base import Engine
from piccolo.table import Table

from core.ids import new_id
from core.jobs.ports import MailDraft, QueuedMail
from core.notifications import allows

from .jobs_tables import MailOutbox
from .notifications_repo import stored_choices
from .notifications_tables import TENANT_DEFAULT
from .tables import TenantUser

__all__ = ["MailOutboxRows", "insert_once"]


class MailOutboxRows:
    """The mail outbox part of ``PiccoloJobStore``."""

    _engine: Engine[Any]

    async def queue_mail(self, mail: MailDraft, at: datetime) -> bool:
        user = await TenantUser.select(
            TenantUser.id, TenantUser.person_id.name.as_alias("name")
        ).where(
            (TenantUser.tenant_id == mail.tenant_id) & (TenantUser.person_id.email == mail.recipient)
        ).first()
        if mail.preference is not None:
            mine = await stored_choices(mail.tenant_id, user["id"]) if user else {}
            if not allows(mail.preference, mine, await stored_choices(mail.tenant_id, TENANT_DEFAULT)):
                return False
        return await insert_once(
            MailOutbox(id=new_id(), kind=mail.kind, tenant_id=mail.tenant_id, on_date=mail.on_date,
                       recipient=mail.recipient, subject=mail.subject[:300], body=mail.body, created_at=at,
                       preference=mail.preference, user_id=user["id"] if user else None,
                       recipient_name=(user["name"] or "")[:200] if user else None),
            self._engine,
        )

    async def pending_mail(self, limit: int) -> list[str]:
        rows = await MailOutbox.select(MailOutbox.id).where(
            MailOutbox.sent_at.is_null() & MailOutbox.claimed_at.is_null()
        ).order_by(MailOutbox.created_at).limit(limit)
        return [str(row["id"]) for row in rows]

    async def claim_mail(self, mail_id: str, now: datetime) -> QueuedMail | None:
        """A conditional update is the claim: of two senders only one moves ``claimed_at``."""
        claimed = await MailOutbox.update(
            {MailOutbox.claimed_at: now, MailOutbox.attempts: MailOutbox.attempts + 1}
        ).where(
            (MailOutbox.id == mail_id) & MailOutbox.sent_at.is_null() & MailOutbox.claimed_at.is_null()
        ).returning(
            MailOutbox.id, MailOutbox.recipient, MailOutbox.subject, MailOutbox.body, MailOutbox.attempts,
            MailOutbox.tenant_id, MailOutbox.user_id, MailOutbox.recipient_name, MailOutbox.preference,
        )
        if not claimed:
            return None
        row = claimed[0]
        return QueuedMail(
            row["id"], row["recipient"], row["subject"], row["body"], int(row["attempts"]),
            tenant_id=row["tenant_id"], user_id=row["user_id"],
            recipient_name=row["recipient_name"] or "", preference=row["preference"],
        )

    async def mail_sent(self, mail_id: str, at: datetime) -> None:
        await MailOutbox.update({MailOutbox.sent_at: at, MailOutbox.last_error: None}).where(
            MailOutbox.id == mail_id
        )

    async def mail_in_doubt(self, mail_id: str, error: str, at: datetime) -> None:
        # The claim stays: ``pending_mail`` never offers the mail again.
        await MailOutbox.update({MailOutbox.in_doubt_at: at, MailOutbox.last_error: error[:2000]}).where(
            MailOutbox.id == mail_id
        )

    async def mails_abandoned(self, claimed_before: datetime, at: datetime) -> int:
        marked = await MailOutbox.update({
            MailOutbox.in_doubt_at: at,
            MailOutbox.last_error: "the sender stopped mid-send; not sent again (at most once)",
        }).where(
            MailOutbox.sent_at.is_null() & MailOutbox.in_doubt_at.is_null()
            & (MailOutbox.claimed_at < claimed_before)
        ).returning(MailOutbox.id)
        return len(marked)

    async def mail_failed(self, mail_id: str, error: str) -> None:
        # Released at once: the next run tries again (the attempts count says how often).
        await MailOutbox.update({MailOutbox.claimed_at: None, MailOutbox.last_error: error[:2000]}).where(
            MailOutbox.id == mail_id
        )


async def insert_once(row: Table, engine: Engine[Any]) -> bool:
    """Insert ``row`` unless its unique key exists; never aborts the surrounding transaction.

    ``ON CONFLICT DO NOTHING`` (PostgreSQL and SQLite alike): a concurrent twin waits for
    the first insert's transaction and then inserts nothing.
    """
    table = type(row)
    result = await table.insert(row).on_conflict(action="DO NOTHING").returning(table._meta.primary_key)
    return bool(result)

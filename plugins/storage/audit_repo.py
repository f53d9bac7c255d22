"""Reading the audit trail a page at a time, newest first, with every filter in SQL.

A tenant's Administrators read their tenant's rows (``PiccoloAuditLog.page``); operators
read every tenant's and the installation-wide ones (``PiccoloDirectory.audit_page``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.audit import AuditQuery, AuditRecord

from .tables import AuditEvent

__all__ = ["audit_page", "clean_action"]


def clean_action(action: str) -> str:
    """Actions are lower-case dotted words; anything else typed cannot match one anyway."""
    return re.sub(r"[^a-z0-9._-]", "", action.strip().lower())[:64]


def _record(row: dict[str, Any]) -> AuditRecord:
    try:
        detail = json.loads(row["detail"] or "{}")
    except ValueError:
        detail = {"raw": row["detail"]}
    return AuditRecord(
        id=row["id"], tenant_id=row["tenant_id"], at=row["at"], actor=row["actor"],
        action=row["action"], subject=row["subject"], detail=detail, address=row["address"],
    )


async def audit_page(query: AuditQuery) -> list[AuditRecord]:
    """The rows ``query`` asks for; ``query.tenant_id`` "" means every tenant's."""
    select = AuditEvent.select().order_by(AuditEvent.at, AuditEvent.id, ascending=False)
    if query.tenant_id is None:
        select = select.where(AuditEvent.tenant_id.is_null())
    elif query.tenant_id:
        select = select.where(AuditEvent.tenant_id == query.tenant_id)
    action = clean_action(query.action)
    if action:
        # ``signin`` is the family: signin and signin.failed, not "signinx".
        select = select.where((AuditEvent.action == action) | AuditEvent.action.like(f"{action}.%"))
    if query.actor_kind:
        select = select.where(AuditEvent.actor.like(f"{clean_action(query.actor_kind)}:%"))
    if query.actor and query.subject:
        select = select.where((AuditEvent.actor == query.actor) | (AuditEvent.subject == query.subject))
    elif query.actor:
        select = select.where(AuditEvent.actor == query.actor)
    if query.after is not None:
        at, last = query.after.at, query.after.id
        select = select.where((AuditEvent.at < at) | ((AuditEvent.at == at) & (AuditEvent.id < last)))
    return [_record(row) for row in await select.limit(query.limit)]

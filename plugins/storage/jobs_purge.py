"""The purge of a cloud tenant's data once its retention has run out (SPEC §3): every row
of the tenant's except the records kept, then the seats and people nobody else holds. A
part of ``PiccoloJobStore`` (``jobs_repo.py``)."""

from __future__ import annotations

from datetime import datetime

from piccolo.table import Table

from .changes import note_change, subscription_scope, tenant_scope
from .jobs_tables import RetentionNotice
from .tables import ALL_TABLES, AuditEvent, CreditNote, Invoice, Seat, TenantUser
from .tables import Person as PersonRow
from .tables import Tenant as TenantRow

__all__ = ["TenantPurge"]

#: Tables a purge keeps: the tenant's own row (marked purged), its invoices and credit
#: notes (financial records), its audit trail (the record of what happened, purge included) and the
#: retention notices that prove the warnings went out.
_KEPT = {TenantRow, Invoice, CreditNote, AuditEvent, RetentionNotice}


def _purgeable() -> list[type[Table]]:
    tables = [
        t for t in ALL_TABLES if t not in _KEPT and t is not TenantUser and _has_column(t, "tenant_id")
    ]
    # Memberships last: tokens and other per-user rows point at them.
    return [*tables, TenantUser]


def _has_column(table: type[Table], name: str) -> bool:
    return any(column._meta.name == name for column in table._meta.columns)


class TenantPurge:
    """The purge part of ``PiccoloJobStore``."""

    async def purge_tenant(self, tenant_id: str, at: datetime) -> dict[str, int] | None:
        # The conditional update is the claim: a concurrent purge waits on the row, then
        # finds it purged and does nothing.
        claimed = await TenantRow.update({TenantRow.purged_at: at}).where(
            (TenantRow.id == tenant_id) & TenantRow.purged_at.is_null()
        ).returning(TenantRow.subscription_id)
        if not claimed:
            return None
        sub_id = claimed[0]["subscription_id"]
        people = [row["person_id"] for row in await TenantUser.select(TenantUser.person_id).where(
            TenantUser.tenant_id == tenant_id
        )]
        counts: dict[str, int] = {}
        for table in _purgeable():
            where = table._meta.get_column_by_name("tenant_id") == tenant_id
            count = await table.count().where(where)
            if count:
                await table.delete().where(where)
                counts[table._meta.tablename] = count
        if people:
            # A seat belongs to the subscription; it goes with the last membership that used it.
            sharing = [row["id"] for row in await TenantRow.select(TenantRow.id).where(
                TenantRow.subscription_id == sub_id
            )]
            still_member = {row["person_id"] for row in await TenantUser.select(TenantUser.person_id).where(
                TenantUser.person_id.is_in(people) & TenantUser.tenant_id.is_in(sharing)
            )}
            gone = [p for p in people if p not in still_member]
            if gone:
                seats = (Seat.subscription_id == sub_id) & Seat.person_id.is_in(gone)
                counts["seat"] = await Seat.count().where(seats)
                await Seat.delete().where(seats)
            # A person left with no membership and no seat anywhere is nobody's data any more.
            kept = {row["person_id"] for row in await TenantUser.select(TenantUser.person_id).where(
                TenantUser.person_id.is_in(people))}
            kept |= {row["person_id"] for row in await Seat.select(Seat.person_id).where(
                Seat.person_id.is_in(people))}
            orphans = [p for p in people if p not in kept]
            if orphans:
                await PersonRow.delete().where(PersonRow.id.is_in(orphans))
                counts["person"] = len(orphans)
        note_change(tenant_scope(tenant_id))
        note_change(subscription_scope(sub_id))
        return counts

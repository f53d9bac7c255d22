"""Tenants' DevOps connections (``devops_connection``; see core.services.devops)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.services.devops import ConnectorKind, StoredDevOpsConnection

from .tracking_tables import DevOpsConnectionRow as Row

__all__ = ["PiccoloDevOpsConnections"]


def _from_row(row: dict[str, Any]) -> StoredDevOpsConnection:
    return StoredDevOpsConnection(
        kind=ConnectorKind(str(row["kind"])),
        organization_url=row["organization_url"],
        project=row["project"],
        sealed_pat=row["sealed_pat"],
        updated_at=row["updated_at"],
    )


class PiccoloDevOpsConnections:
    """Runs in the caller's unit of work; every method names the tenant it touches."""

    async def load(self, tenant_id: str) -> StoredDevOpsConnection | None:
        row = await Row.select().where(Row.tenant_id == tenant_id).first()
        return _from_row(row) if row else None

    async def save(self, tenant_id: str, connection: StoredDevOpsConnection, at: datetime) -> None:
        row = Row(
            tenant_id=tenant_id, kind=connection.kind.value, organization_url=connection.organization_url,
            project=connection.project, sealed_pat=connection.sealed_pat, updated_at=at,
        )
        # An upsert: two administrators saving at once both succeed, the last one wins.
        await Row.insert(row).on_conflict(
            target=Row.tenant_id, action="DO UPDATE",
            values=[Row.kind, Row.organization_url, Row.project, Row.sealed_pat, Row.updated_at],
        )

    async def replace_sealed(self, tenant_id: str, old: str, new: str) -> bool:
        """Swap the sealed token ``old`` for ``new`` (the same token sealed with another key);
        False when the row holds something else by now."""
        changed = await Row.update({Row.sealed_pat: new}).where(
            (Row.tenant_id == tenant_id) & (Row.sealed_pat == old)
        ).returning(Row.tenant_id)
        return bool(changed)

    async def connected(self) -> dict[str, StoredDevOpsConnection]:
        """Every tenant's connection that is not standalone (the work-item job's one query)."""
        rows = await Row.select().where(Row.kind != ConnectorKind.STANDALONE.value)
        return {row["tenant_id"]: _from_row(row) for row in rows}

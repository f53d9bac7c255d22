"""Tracking's DevOps ports: the platform the work-item outbox writes to (its work items'
scheduling fields, read and updated at a revision) and the tenant's stored connection to it
(SPEC §8). Re-exported by :mod:`core.tracking.ports`, where the other contexts find them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from core.errors import Conflict

__all__ = [
    "ConnectorKind",
    "DevOpsConnectionStore",
    "DevOpsConnector",
    "SealFn",
    "StaleWorkItem",
    "StoredDevOpsConnection",
    "WorkItemState",
]


@dataclass(frozen=True, slots=True)
class WorkItemState:
    """A work item's scheduling fields as the DevOps platform holds them (hours)."""

    work_item: str
    rev: int
    completed_work: Decimal | None
    remaining_work: Decimal | None


class StaleWorkItem(Conflict):
    """The work item changed since it was read (HTTP 412 on a ``test /rev``)."""

    code = "stale_work_item"


class DevOpsConnector(Protocol):
    """One tenant's DevOps platform: local work items, or Azure DevOps over REST."""

    async def work_item(self, work_item: str) -> WorkItemState | None: ...

    async def revision(self, work_item: str, rev: int) -> WorkItemState | None: ...

    async def update_work_item(
        self, work_item: str, *, rev: int, completed_work: Decimal | None, remaining_work: Decimal | None
    ) -> WorkItemState:
        """Set the fields given (None: leave that field as it is) if the item is still at
        ``rev``; else :class:`StaleWorkItem`."""
        ...


class ConnectorKind(StrEnum):
    STANDALONE = "standalone"
    AZURE_DEVOPS = "azure_devops"


@dataclass(frozen=True, slots=True)
class StoredDevOpsConnection:
    """A tenant's DevOps connection as stored: the token only sealed."""

    kind: ConnectorKind
    organization_url: str | None
    project: str | None
    sealed_pat: str | None
    updated_at: datetime | None = None


class DevOpsConnectionStore(Protocol):
    """Tenants' DevOps connections (None: never configured, the standalone default).

    Runs inside the caller's unit of work, like the other stores passed to services."""

    async def load(self, tenant_id: str) -> StoredDevOpsConnection | None: ...

    async def save(self, tenant_id: str, connection: StoredDevOpsConnection, at: datetime) -> None: ...


class SealFn(Protocol):
    """Encrypts a personal access token for storage."""

    def __call__(self, pat: str, /) -> str: ...

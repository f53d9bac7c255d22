"""What every Reporting API statement is built from: the engine's dialect, the bind
parameters in the order the text uses them (``{}``, Piccolo's placeholder, numbered ``$n`` on
PostgreSQL by ``plugins.storage.plain_sql``), the finished statement, the per-query context
(the viewer and the maps computed for this query) and identifier quoting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from core.reporting.visibility import Viewer

__all__ = ["Context", "Dialect", "Params", "Statement", "quoted"]


Dialect = Literal["sqlite", "postgres"]


@dataclass
class Params:
    values: list[Any] = field(default_factory=list)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return "{}"


@dataclass(frozen=True, slots=True)
class Statement:
    text: str
    params: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Context:
    """What a base query depends on besides the tenant: the viewer and the budget maps."""

    tenant_id: str
    viewer: Viewer
    dialect: Dialect
    #: work item id (text) → [budget id, assignment] for a worklog on it (no direct assignment).
    worklog_map: str = "{}"
    #: work item id (text) → [budget id, assignment] for the work item itself.
    item_map: str = "{}"
    #: work item id (text) → [tracked, billable] of it and its descendants (the viewer's time).
    rollup_map: str = "{}"
    #: [[user id, week start, week end, status], …]: the weeks that are not open, as UTC
    #: windows in each user's zone (start and end in the engine's timestamp text).
    approval_windows: str = "[]"


def quoted(name: str) -> str:
    # Identifiers come from the model only; quoting keeps their case on both engines.
    assert name.replace("_", "").replace("/", "").isalnum(), name
    return f'"{name}"'

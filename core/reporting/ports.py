"""What the Reporting API needs from outside the core: a reader that runs a validated query
for one tenant and viewer, and a seal for its paging cursors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .query import Query
from .visibility import Viewer

__all__ = ["CursorSeal", "Page", "QueryParser", "ReportingReader"]


@dataclass(frozen=True, slots=True)
class Page:
    """Rows as OData values (nested dicts for expanded and grouped navigations), each a dict
    or a struct the answer's encoder writes as the same JSON object (the reader's rows of
    every property of a worklog page); ``after``: the last row's position in the order when
    more rows may follow (None: the last page)."""

    rows: list[Any]
    count: int | None = None
    after: tuple[Any, ...] | None = None


class ReportingReader(Protocol):
    async def read(
        self,
        tenant_id: str,
        viewer: Viewer,
        query: Query,
        *,
        after: tuple[Any, ...] | None,
        limit: int,
        skip: int,
    ) -> Page:
        """``limit`` rows of ``query`` after ``after`` (keyset), skipping ``skip`` first."""
        ...


class QueryParser(Protocol):
    def parse(self, entity_set: str, options: Mapping[str, str]) -> Query:
        """The query OData's system query options ask for (``QueryRefused`` when they cannot)."""
        ...


class CursorSeal(Protocol):
    def seal(self, owner: str, payload: str) -> str:
        """``payload`` made opaque and tamper-evident, opening only for the same ``owner``."""
        ...

    def open(self, owner: str, sealed: str) -> str:
        """The payload; ``ValueError`` when it was not sealed for ``owner`` or was changed."""
        ...

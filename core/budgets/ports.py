"""What the budgets context needs from storage: a tenant's budgets and their assignments,
and the read model usage is computed from (the work item tree and a period's worklogs).

Handed out by the tenant's scope (``uow.tenant(t).budgets()``); every query behind it
filters on that tenant.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from core.budgets.model import AssignmentKind, Budget
from core.budgets.resolution import Assignments, WorkTree
from core.budgets.usage import WorklogFact

__all__ = ["BudgetRepository"]


class BudgetRepository(Protocol):
    async def get(self, budget_id: str) -> Budget | None: ...

    async def all(self) -> list[Budget]:
        """Every budget of the tenant, by name."""
        ...

    async def add(self, budget: Budget) -> None: ...

    async def save(self, budget: Budget, at: datetime) -> None: ...

    async def assignments(self) -> Assignments:
        """Every direct assignment of the tenant (one query)."""
        ...

    async def assign(
        self, budget_id: str, kind: AssignmentKind, targets: Sequence[str], at: datetime
    ) -> None:
        """Assign each target to this budget; a target assigned to another budget moves
        (a target has at most one direct budget). Ids are text: work items' and iterations'
        integers in decimal."""
        ...

    async def unassign(self, budget_id: str, kind: AssignmentKind, targets: Sequence[str]) -> int:
        """Remove the targets' assignments to this budget (others' are left); how many went."""
        ...

    async def tree(self) -> WorkTree:
        """Every work item's parent and iteration, in one query."""
        ...

    async def iteration_ids(self) -> set[int]: ...

    async def existing_worklogs(self, ids: Collection[str]) -> set[str]:
        """Which of ``ids`` are the tenant's worklogs."""
        ...

    async def facts(
        self, start: datetime | None, end: datetime | None, *, user_id: str | None = None,
        ids: Collection[str] | None = None, work_items: Collection[int] | None = None,
    ) -> list[WorklogFact]:
        """The worklogs starting in ``[start, end)`` — only one user's with ``user_id``, only
        those on ``work_items`` with it — or exactly ``ids`` (no other filter); only the
        columns usage reads, in one query."""
        ...

    async def titles(self, work_items: Collection[int]) -> dict[int, str]: ...

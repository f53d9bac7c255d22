"""In-memory budgets: one tenant's budgets and direct assignments, and the read model of
usage over the fake's worklogs and work items.

Behaves like ``plugins/storage/budgets_repo.py``: budgets by name then id; a target has
at most one budget (assigning moves it); unassigning removes only this budget's rows; a
worklog's work item that is not a decimal id names no item.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from core.budgets import AssignmentKind, Assignments, Budget, WorklogFact, WorkTree

if TYPE_CHECKING:
    from tests.fakes.unit_of_work import FakeDatabase

__all__ = ["FakeBudgetRepository"]


def _item_id(text: str | None) -> int | None:
    if text is None or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


class FakeBudgetRepository:
    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    def _budgets(self) -> dict[str, Budget]:
        return self._store.budgets.setdefault(self.tenant_id, {})

    def _assigned(self) -> dict[tuple[str, str], str]:
        return self._store.budget_assignments.setdefault(self.tenant_id, {})

    async def get(self, budget_id: str) -> Budget | None:
        return self._store.budgets.get(self.tenant_id, {}).get(budget_id)

    async def all(self) -> list[Budget]:
        return sorted(self._store.budgets.get(self.tenant_id, {}).values(), key=lambda b: (b.name, b.id))

    async def add(self, budget: Budget) -> None:
        self._store.check_write("add a budget")
        self._budgets()[budget.id] = budget

    async def save(self, budget: Budget, at: datetime) -> None:
        self._store.check_write("save a budget")
        if budget.id in self._budgets():
            self._budgets()[budget.id] = budget

    async def assignments(self) -> Assignments:
        iterations: dict[int, str] = {}
        work_items: dict[int, str] = {}
        worklogs: dict[str, str] = {}
        for (kind, target), budget in self._store.budget_assignments.get(self.tenant_id, {}).items():
            if kind == AssignmentKind.WORKLOG:
                worklogs[target] = budget
            elif kind == AssignmentKind.WORK_ITEM:
                work_items[int(target)] = budget
            else:
                iterations[int(target)] = budget
        return Assignments(iterations, work_items, worklogs)

    async def assign(
        self, budget_id: str, kind: AssignmentKind, targets: Sequence[str], at: datetime
    ) -> None:
        self._store.check_write("assign a budget")
        for target in targets:
            self._assigned()[(kind.value, target)] = budget_id

    async def unassign(self, budget_id: str, kind: AssignmentKind, targets: Sequence[str]) -> int:
        self._store.check_write("unassign a budget")
        table = self._assigned()
        gone = 0
        for target in dict.fromkeys(targets):
            if table.get((kind.value, target)) == budget_id:
                del table[(kind.value, target)]
                gone += 1
        return gone

    async def tree(self) -> WorkTree:
        items = self._store.work_items.get(self.tenant_id, {})
        return WorkTree(
            {item.id: item.parent_id for item in items.values()},
            {item.id: item.iteration_id for item in items.values()},
        )

    async def iteration_ids(self) -> set[int]:
        return set(self._store.iterations.get(self.tenant_id, {}))

    async def existing_worklogs(self, ids: Collection[str]) -> set[str]:
        mine = self._store.worklogs.get(self.tenant_id, {})
        return {worklog_id for worklog_id in ids if worklog_id in mine}

    async def facts(
        self, start: datetime | None, end: datetime | None, *, user_id: str | None = None,
        ids: Collection[str] | None = None, work_items: Collection[int] | None = None,
    ) -> list[WorklogFact]:
        out = []
        wanted = None if work_items is None else {str(item) for item in work_items}
        for w in self._store.worklogs.get(self.tenant_id, {}).values():
            if ids is not None:
                if w.id not in ids:
                    continue
            elif (
                (start is not None and w.started_at < start)
                or (end is not None and w.started_at >= end)
                or (user_id is not None and w.user_id != user_id)
                or (wanted is not None and w.work_item not in wanted)
            ):
                continue
            out.append(WorklogFact(
                id=w.id, user_id=w.user_id, started_at=w.started_at, work_item=_item_id(w.work_item),
                activity_type=w.activity_type, length_s=w.length_s, billable_s=w.billable_length_s,
                activity_type_id=w.activity_type_id,
            ))
        return out

    async def titles(self, work_items: Collection[int]) -> dict[int, str]:
        items = self._store.work_items.get(self.tenant_id, {})
        return {i: items[i].title for i in work_items if i in items}

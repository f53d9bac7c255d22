"""One tenant's budgets, their assignments and the read model of usage.

Every query filters on ``self.tenant_id``. Usage reads the period's worklogs in one
statement with only the columns it needs (no comment, no flags) and the work item tree
in another; the resolution itself is core's memoised walk.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from piccolo.table import Table

from core.budgets import AssignmentKind, Assignments, Budget, WorklogFact, WorkTree
from core.ids import new_id
from core.money import Money

from .budgets_tables import BudgetAssignmentRow, BudgetRow
from .plain_sql import Sql, fetch
from .tracking_tables import WorklogRow

__all__ = ["PiccoloBudgetRepo"]


def _budget(row: dict[str, Any]) -> Budget:
    currency = row["currency"]

    def money(value: int | None) -> Money | None:
        return None if value is None else Money(int(value), currency)

    return Budget(
        id=row["id"], name=row["name"], description=row["description"],
        limit_s=None if row["limit_s"] is None else int(row["limit_s"]),
        amount=money(row["amount"]), hourly_rate=money(row["hourly_rate"]),
        starts_on=row["starts_on"], ends_on=row["ends_on"], open=bool(row["is_open"]),
        customer=row["customer"], created_at=row["created_at"],
    )


def _columns(budget: Budget) -> dict[str, Any]:
    return {
        "name": budget.name, "description": budget.description, "limit_s": budget.limit_s,
        "amount": None if budget.amount is None else budget.amount.amount,
        "hourly_rate": None if budget.hourly_rate is None else budget.hourly_rate.amount,
        "currency": budget.currency, "starts_on": budget.starts_on, "ends_on": budget.ends_on,
        "is_open": budget.open, "customer": budget.customer,
    }


def _item_id(text: str | None) -> int | None:
    """A worklog's work item as the mirror's integer id (text that is not one: none)."""
    if text is None or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


_TREE = Sql("SELECT item_id, parent_id, iteration_id FROM work_item WHERE tenant_id = {}")
_ITERATIONS = Sql("SELECT iteration_id FROM iteration WHERE tenant_id = {}")
_FACT_COLUMNS = (
    "id, user_id, started_at, work_item, activity_type, activity_type_id, length_s, billable_length_s"
)


@cache
def _facts_sql(start: bool, end: bool, user: bool, items: str | None) -> Sql:
    """The period's worklogs, only usage's columns; ``items``: the engine whose way of
    passing a list of work items to use (one parameter either way)."""
    where = ["tenant_id = {}"]
    if start:
        where.append("started_at >= {}")
    if end:
        where.append("started_at < {}")
    if user:
        where.append("user_id = {}")
    if items == "postgres":
        where.append("work_item = ANY({}::text[])")
    elif items is not None:
        where.append("work_item IN (SELECT value FROM json_each({}))")
    return Sql(f"SELECT {_FACT_COLUMNS} FROM worklog WHERE {' AND '.join(where)}")


def _facts(rows: Sequence[Any]) -> list[WorklogFact]:
    """Rows (dicts, or asyncpg's records: both read by column name) as facts."""
    items: dict[str | None, int | None] = {}
    out: list[WorklogFact] = []
    append = out.append
    for row in rows:
        # By position (the order of _FACT_COLUMNS): a record's lookups by name cost more
        # than the rest of the row's work together.
        worklog_id, user_id, started_at, text, activity_type, type_id, length_s, billable_s = (
            row.values() if isinstance(row, dict) else row
        )
        if isinstance(started_at, str):  # SQLite's raw rows may keep the text
            started_at = datetime.fromisoformat(started_at)
        if text in items:
            item = items[text]
        else:
            item = items[text] = _item_id(text)
        append(WorklogFact(
            worklog_id, user_id, started_at, item, activity_type, length_s, billable_s, type_id
        ))
    return out


async def _records(sql: Sql, *args: Any) -> Sequence[Any]:
    """:func:`~.plain_sql.fetch` without turning each row into a dict: usage reads a
    hundred thousand rows, and asyncpg's records are read by column name as they are."""
    engine: Any = WorklogRow._meta.db
    if engine.engine_type == "postgres":
        transaction = engine.current_transaction.get()
        if transaction is not None:
            return list(await transaction.connection.fetch(sql.postgres, *args))
        if engine.pool is not None:
            async with engine.pool.acquire() as connection:
                return list(await connection.fetch(sql.postgres, *args))
    return await fetch(WorklogRow, sql, *args)


async def _in(table: type[Table], sql: str, tenant_id: str, values: list[Any]) -> list[dict[str, Any]]:
    """``sql`` with the tenant's placeholder first and ``{in}`` as one placeholder per value."""
    placeholders = ", ".join(["{}"] * len(values))
    return list(await table.raw(sql.replace("{in}", placeholders), tenant_id, *values))


class PiccoloBudgetRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    async def get(self, budget_id: str) -> Budget | None:
        row = await BudgetRow.select().where(
            (BudgetRow.tenant_id == self.tenant_id) & (BudgetRow.id == budget_id)
        ).first()
        return _budget(row) if row else None

    async def all(self) -> list[Budget]:
        rows = await BudgetRow.select().where(BudgetRow.tenant_id == self.tenant_id).order_by(
            BudgetRow.name, BudgetRow.id
        )
        return [_budget(row) for row in rows]

    async def add(self, budget: Budget) -> None:
        await BudgetRow.insert(BudgetRow(
            id=budget.id, tenant_id=self.tenant_id, created_at=budget.created_at,
            updated_at=budget.created_at, **_columns(budget),
        ))

    async def save(self, budget: Budget, at: datetime) -> None:
        column = BudgetRow._meta.get_column_by_name
        values: dict[Any, Any] = {column(k): v for k, v in _columns(budget).items()}
        values[BudgetRow.updated_at] = at
        await BudgetRow.update(values).where(
            (BudgetRow.tenant_id == self.tenant_id) & (BudgetRow.id == budget.id)
        )

    async def assignments(self) -> Assignments:
        rows = await BudgetAssignmentRow.select(
            BudgetAssignmentRow.budget_id, BudgetAssignmentRow.kind, BudgetAssignmentRow.target
        ).where(BudgetAssignmentRow.tenant_id == self.tenant_id)
        iterations: dict[int, str] = {}
        work_items: dict[int, str] = {}
        worklogs: dict[str, str] = {}
        for row in rows:
            kind, target, budget = row["kind"], row["target"], row["budget_id"]
            if kind == AssignmentKind.WORKLOG:
                worklogs[target] = budget
            elif kind == AssignmentKind.WORK_ITEM:
                work_items[int(target)] = budget
            elif kind == AssignmentKind.ITERATION:
                iterations[int(target)] = budget
        return Assignments(iterations, work_items, worklogs)

    async def assign(
        self, budget_id: str, kind: AssignmentKind, targets: Sequence[str], at: datetime
    ) -> None:
        if not targets:
            return
        # A target has one budget: its old assignment (to any budget) makes way.
        await BudgetAssignmentRow.delete().where(
            (BudgetAssignmentRow.tenant_id == self.tenant_id)
            & (BudgetAssignmentRow.kind == kind.value)
            & BudgetAssignmentRow.target.is_in(list(targets))
        )
        await BudgetAssignmentRow.insert(*[
            BudgetAssignmentRow(
                id=new_id(), tenant_id=self.tenant_id, budget_id=budget_id, kind=kind.value,
                target=target, created_at=at,
            )
            for target in dict.fromkeys(targets)
        ])

    async def unassign(self, budget_id: str, kind: AssignmentKind, targets: Sequence[str]) -> int:
        if not targets:
            return 0
        where = (
            (BudgetAssignmentRow.tenant_id == self.tenant_id)
            & (BudgetAssignmentRow.budget_id == budget_id)
            & (BudgetAssignmentRow.kind == kind.value)
            & BudgetAssignmentRow.target.is_in(list(targets))
        )
        count = int(await BudgetAssignmentRow.count().where(where))
        await BudgetAssignmentRow.delete().where(where)
        return count

    async def tree(self) -> WorkTree:
        parents: dict[int, int | None] = {}
        iterations: dict[int, int | None] = {}
        for row in await fetch(BudgetRow, _TREE, self.tenant_id):
            item = int(row["item_id"])
            parents[item] = None if row["parent_id"] is None else int(row["parent_id"])
            iterations[item] = None if row["iteration_id"] is None else int(row["iteration_id"])
        return WorkTree(parents, iterations)

    async def iteration_ids(self) -> set[int]:
        return {int(row["iteration_id"]) for row in await fetch(BudgetRow, _ITERATIONS, self.tenant_id)}

    async def existing_worklogs(self, ids: Collection[str]) -> set[str]:
        if not ids:
            return set()
        rows = await _in(WorklogRow, "SELECT id FROM worklog WHERE tenant_id = {} AND id IN ({in})",
                         self.tenant_id, list(ids))
        return {row["id"] for row in rows}

    async def facts(
        self, start: datetime | None, end: datetime | None, *, user_id: str | None = None,
        ids: Collection[str] | None = None, work_items: Collection[int] | None = None,
    ) -> list[WorklogFact]:
        if ids is not None:
            if not ids:
                return []
            rows = await WorklogRow.select(
                WorklogRow.id, WorklogRow.user_id, WorklogRow.started_at, WorklogRow.work_item,
                WorklogRow.activity_type, WorklogRow.activity_type_id, WorklogRow.length_s,
                WorklogRow.billable_length_s,
            ).where((WorklogRow.tenant_id == self.tenant_id) & WorklogRow.id.is_in(list(ids)))
            return _facts(rows)
        if work_items is not None and not work_items:
            return []
        args: list[Any] = [self.tenant_id]
        if start is not None:
            args.append(start)
        if end is not None:
            args.append(end)
        if user_id is not None:
            args.append(user_id)
        engine = None
        if work_items is not None:
            engine = WorklogRow._meta.db.engine_type
            texts = [str(item) for item in work_items]
            args.append(texts if engine == "postgres" else json.dumps(texts))
        sql = _facts_sql(start is not None, end is not None, user_id is not None, engine)
        return _facts(await _records(sql, *args))

    async def titles(self, work_items: Collection[int]) -> dict[int, str]:
        if not work_items:
            return {}
        rows = await _in(
            BudgetRow, "SELECT item_id, title FROM work_item WHERE tenant_id = {} AND item_id IN ({in})",
            self.tenant_id, list(work_items),
        )
        return {int(row["item_id"]): row["title"] for row in rows}

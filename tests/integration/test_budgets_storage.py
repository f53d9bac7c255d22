"""Budgets storage on both engines and in memory: one behaviour contract run against the
Piccolo repository and the fake alike (budgets, assignments, the usage read model)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from core.budgets import AssignmentKind, BudgetDraft, WorklogFact, WorkTree, create_budget
from core.money import Money
from core.tracking import Worklog, WorklogFlag
from core.work_items import Iteration, StateCategory, WorkItem
from plugins.storage import engine as storage_engine
from plugins.storage.budgets_repo import PiccoloBudgetRepo
from plugins.storage.migrations import upgrade
from plugins.storage.tracking_repo import PiccoloTrackingRepo
from plugins.storage.work_items_repo import PiccoloWorkItemRepo
from tests.fakes.budgets import FakeBudgetRepository
from tests.fakes.tracking import FakeTrackingRepository
from tests.fakes.unit_of_work import FakeDatabase
from tests.fakes.work_items import FakeWorkItemRepository

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Tenant:
    budgets: Any
    items: Any
    tracking: Any
    engine: Any = None

    async def add_worklogs(self, worklogs: list[Worklog]) -> None:
        if self.engine is None:
            await self.tracking.add_worklogs(worklogs, NOW)
            return
        async with self.engine.transaction():  # bulk inserts run in a write transaction
            await self.tracking.add_worklogs(worklogs, NOW)


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def tenants(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[tuple[Tenant, Tenant]]:
    """(tenant one's repositories, tenant two's) over the fake store or a migrated database."""
    if request.param == "fake":
        store = FakeDatabase()
        yield tuple(  # type: ignore[misc]
            Tenant(FakeBudgetRepository(store, t), FakeWorkItemRepository(store, t),
                   FakeTrackingRepository(store, t))
            for t in ("ten1", "ten2")
        )
        return
    name = None
    if request.param == "sqlite":
        engine = await storage_engine.open_engine(f"sqlite:///{tmp_path / 'budgets.sqlite3'}")
    else:
        from tests.support import databases

        name, url = databases.create_empty()
        engine = await storage_engine.open_engine(url, pool_size=2)
    storage_engine.bind(engine)
    await upgrade(engine)
    yield tuple(  # type: ignore[misc]
        Tenant(PiccoloBudgetRepo(t), PiccoloWorkItemRepo(t), PiccoloTrackingRepo(engine, t), engine)
        for t in ("ten1", "ten2")
    )
    await storage_engine.close(engine)
    if name:
        from tests.support import databases

        databases.drop(name)


def _item(item_id: int, parent: int | None = None, iteration: int | None = None) -> WorkItem:
    return WorkItem(id=item_id, title=f"Item {item_id}", type="Task", state="Active",
                    state_category=StateCategory.IN_PROGRESS, changed_at=NOW, parent_id=parent,
                    iteration_id=iteration)


def _worklog(worklog_id: str, user: str, at: datetime, item: str | None, billable: int = 0) -> Worklog:
    flags = {WorklogFlag.MANUAL} | ({WorklogFlag.BILLABLE} if billable else set())
    return Worklog(id=worklog_id, user_id=user, started_at=at, length_s=3_600, billable_length_s=billable,
                   work_item=item, comment="not read by usage", activity_type="Design", added_by=user,
                   flags=frozenset(flags))


async def test_budgets_are_stored_whole_changed_and_kept_per_tenant(tenants: tuple[Tenant, Tenant]) -> None:
    one, two = tenants
    budget = create_budget(
        BudgetDraft(name="Acme", description="Q1", limit_s=36_000, amount=Money(500_000, "EUR"),
                    hourly_rate=Money(9_000, "EUR"), starts_on=date(2026, 1, 1), ends_on=date(2026, 3, 31),
                    customer="ACME-1"),
        "bud1", NOW,
    )
    await one.budgets.add(budget)
    await one.budgets.add(create_budget(BudgetDraft(name="Internal"), "bud2", NOW))
    assert await one.budgets.get("bud1") == budget
    assert [b.name for b in await one.budgets.all()] == ["Acme", "Internal"]
    closed = replace(budget, open=False, amount=None, customer=None)
    await one.budgets.save(closed, NOW + timedelta(hours=1))
    assert await one.budgets.get("bud1") == closed
    assert await two.budgets.get("bud1") is None
    assert await two.budgets.all() == []


async def test_a_target_has_one_budget_and_unassigning_touches_only_this_budgets_rows(
    tenants: tuple[Tenant, Tenant],
) -> None:
    one, two = tenants
    await one.budgets.assign("bud1", AssignmentKind.WORK_ITEM, ["1", "2"], NOW)
    await one.budgets.assign("bud1", AssignmentKind.ITERATION, ["7"], NOW)
    await one.budgets.assign("bud1", AssignmentKind.WORKLOG, ["wl1"], NOW)
    await one.budgets.assign("bud2", AssignmentKind.WORK_ITEM, ["2"], NOW)  # moves item 2
    await two.budgets.assign("bud9", AssignmentKind.WORK_ITEM, ["1"], NOW)
    found = await one.budgets.assignments()
    assert dict(found.work_items) == {1: "bud1", 2: "bud2"}
    assert dict(found.iterations) == {7: "bud1"}
    assert dict(found.worklogs) == {"wl1": "bud1"}
    assert await one.budgets.unassign("bud1", AssignmentKind.WORK_ITEM, ["1", "2", "3"]) == 1
    assert dict((await one.budgets.assignments()).work_items) == {2: "bud2"}
    assert dict((await two.budgets.assignments()).work_items) == {1: "bud9"}


async def test_the_usage_read_model_gives_the_tree_the_periods_worklogs_and_titles(
    tenants: tuple[Tenant, Tenant],
) -> None:
    one, two = tenants
    await one.items.upsert([_item(1, iteration=None), _item(2, parent=1, iteration=None), _item(3, parent=2)])
    await one.items.upsert_iterations([Iteration(5, "Sprint 1", date(2026, 1, 1), date(2026, 1, 14))])
    await two.items.upsert([_item(9)])
    await one.add_worklogs(
        [
            _worklog("wl1", "ann", NOW, "3", billable=1_800),
            _worklog("wl2", "bob", NOW + timedelta(days=1), "text item"),
            _worklog("wl3", "ann", NOW + timedelta(days=40), None),
        ],
    )
    await two.add_worklogs([_worklog("wl9", "cy", NOW, "9")])

    assert await one.budgets.tree() == WorkTree({1: None, 2: 1, 3: 2}, {1: None, 2: None, 3: None})
    assert await one.budgets.iteration_ids() == {5}
    in_december = await one.budgets.facts(NOW, datetime(2027, 1, 1, tzinfo=UTC))
    assert sorted(in_december, key=lambda f: f.id) == [
        WorklogFact("wl1", "ann", NOW, 3, "Design", 3_600, 1_800),
        WorklogFact("wl2", "bob", NOW + timedelta(days=1), None, "Design", 3_600, 0),
    ]
    assert sorted(f.id for f in await one.budgets.facts(None, None, user_id="ann")) == ["wl1", "wl3"]
    assert [f.id for f in await one.budgets.facts(None, None, ids=["wl2", "wl9"])] == ["wl2"]
    assert [f.id for f in await one.budgets.facts(None, None, work_items=[3, 9])] == ["wl1"]
    assert [f.id for f in await one.budgets.facts(NOW + timedelta(hours=1), None, work_items=[3])] == []
    assert await one.budgets.facts(None, None, work_items=[]) == []
    assert await one.budgets.existing_worklogs(["wl1", "wl9", "nope"]) == {"wl1"}
    assert await one.budgets.titles([1, 3, 9]) == {1: "Item 1", 3: "Item 3"}

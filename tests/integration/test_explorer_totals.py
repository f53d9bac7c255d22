"""The explorer's group totals made in SQL (plugins/storage/explorer_sql.py) against the
reference: reading every matching worklog and summing it in Python, each worklog priced and
rounded half-even once (what core.services.explorer did before the sums moved to SQL). The
reference stays here as the oracle; Hypothesis draws the data, the levels, the zone and the
filters, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.budgets import AssignmentKind, BudgetDraft, Resolver, create_budget
from core.money import Money
from core.services.budgets import work_item_id
from core.services.explorer import ExplorerFilters, worklog_query
from core.services.explorer_grouping import group_explored
from core.services.rates import rate_book
from core.tenancy import Deployment, LicensingMode, Tenant
from core.tracking import Worklog, WorklogFlag
from core.tracking.explorer import GroupBy, WorklogGroup, group_worklogs
from core.unit_of_work import UnitOfWorkFactory
from core.work_items import StateCategory, WorkItem
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.uow import PiccoloUnitOfWorkFactory

NOW = datetime(2026, 4, 20, 9, 0, tzinfo=UTC)
#: Worklogs start in these weeks: they hold the 2026 DST changes of Europe (29 March) and
#: Lord Howe (5 April, a half-hour change), so days near midnight move across them.
WINDOW = (datetime(2026, 3, 22, tzinfo=UTC), datetime(2026, 4, 12, tzinfo=UTC))
ZONES = ["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe",
         "Pacific/Kiritimati"]
USERS = ["ann", "bob", "cy"]
ITEMS = [None, "1", "2", "3", "4", "X-9"]


async def oracle(
    uow: UnitOfWorkFactory, *, tenant: Tenant, filters: ExplorerFilters, levels: Sequence[GroupBy],
    time_zone: str,
) -> list[WorklogGroup]:
    """The reference grouping: every matching worklog read and priced one by one."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        query = await worklog_query(scope, tenant, filters)
        worklogs = await scope.tracking().explore(query)
        budgets = scope.budgets()
        tree = await budgets.tree()
        resolver = Resolver(tree, await budgets.assignments())
        budget_rates = {b.id: b.hourly_rate for b in await budgets.all()}
        book = await rate_book(scope)
    currency = book.currency or "USD"

    def budget_of(worklog: Worklog) -> str | None:
        return resolver.worklog(worklog.id, work_item_id(worklog.work_item)).budget_id

    def price(worklog: Worklog) -> Money | None:
        budget_id = budget_of(worklog)
        rate = budget_rates.get(budget_id) if budget_id is not None else None
        return book.amount_for(worklog.billable_length_s, worklog.user_id, worklog.activity_type_id, rate)

    def facts(worklog: Worklog) -> tuple[int | None, str | None]:
        item = work_item_id(worklog.work_item)
        return (tree.iterations.get(item) if item is not None else None), budget_of(worklog)

    return group_worklogs(worklogs, levels, zone=time_zone, currency=currency, price=price, facts=facts)


@dataclass
class Database:
    loop: asyncio.AbstractEventLoop
    uow: PiccoloUnitOfWorkFactory

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """One migrated database for every example (each example is its own tenant)."""
    loop = asyncio.new_event_loop()
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'totals.sqlite3'}"
    else:
        from tests.support import databases

        name, url = databases.create_empty()
    engine = loop.run_until_complete(storage_engine.open_engine(url, pool_size=2))
    storage_engine.bind(engine)
    loop.run_until_complete(upgrade(engine))
    yield Database(loop, PiccoloUnitOfWorkFactory(engine))
    loop.run_until_complete(storage_engine.close(engine))
    loop.close()
    if name:
        from tests.support import databases

        databases.drop(name)


def _tenant(tenant_id: str) -> Tenant:
    return Tenant(id=tenant_id, slug=tenant_id, name="Totals", deployment=Deployment.CLOUD,
                  enterprise_id="e1", subscription_id="s1", time_zone="UTC", default_role="team",
                  licensing_mode=LicensingMode.AUTOMATIC, uninstalled_at=None, created_at=NOW)


def _item(item_id: int, parent: int | None, iteration: int | None) -> WorkItem:
    return WorkItem(id=item_id, title=f"Item {item_id}", type="Task", state="Active",
                    state_category=StateCategory.IN_PROGRESS, changed_at=NOW, parent_id=parent,
                    iteration_id=iteration)


# Small odd rates and billable half hours make exact halves (1,800 × odd / 3,600): the
# half-even rule decides them.
rates = st.one_of(st.none(), st.integers(0, 9), st.integers(0, 50_000), st.integers(0, 1_000_000_000))
#: Seconds after 00:00 UTC at which a day starts in each zone (either side of its changes).
MIDNIGHTS = [0, 22 * 3600, 23 * 3600, 2 * 3600 + 1800, 3 * 3600 + 1800, 18 * 3600 + 900, 13 * 3600,
             13 * 3600 + 1800, 10 * 3600]
starts = st.one_of(
    st.integers(0, int((WINDOW[1] - WINDOW[0]).total_seconds()) - 1),
    # Near some zone's midnight, where the day a worklog counts on depends on the offset.
    st.builds(lambda day, midnight, near: max(0, day * 86_400 + midnight + near),
              st.integers(0, 19), st.sampled_from(MIDNIGHTS), st.integers(-3_600, 3_600)),
)
worklog_lines = st.tuples(
    st.sampled_from(USERS),
    starts,  # seconds into the window
    st.integers(1, 43_200),  # length
    st.one_of(st.integers(0, 43_200), st.sampled_from([1, 900, 1_800, 5_400])),  # billable (≤ length)
    st.sampled_from(ITEMS),
    st.sampled_from([None, "k1", "k2"]),  # activity type
    st.sampled_from([None, None, "b1", "b2"]),  # assigned directly to a budget
)


async def _store(db: Database, tenant_id: str, data: dict[str, Any]) -> None:
    p = tenant_id[:12]  # ids of worklogs, budgets and activity types are unique across tenants
    async with db.uow(write=True) as work:
        scope = work.tenant(tenant_id)
        # Item 2 under item 1 (b1's), item 3 in iteration 7 (b2's), item 4 in iteration 8.
        await scope.work_items().upsert([_item(1, None, 8), _item(2, 1, None), _item(3, None, 7),
                                         _item(4, None, 8)])
        for n, rate in enumerate(data["type_rates"], 1):
            kind = Money(rate, "USD") if rate is not None else None
            await scope.activity_types().add([_kind(f"{p}k{n}", kind)])
        for user, rate in zip(USERS, data["user_rates"], strict=True):
            if rate is not None:
                await scope.rates().set_user_rate(user, Money(rate, "USD"))
        for n, rate in enumerate(data["budget_rates"], 1):
            hourly = Money(rate, "USD") if rate is not None else None
            draft = BudgetDraft(name=f"Budget {n}", hourly_rate=hourly)
            await scope.budgets().add(create_budget(draft, f"{p}b{n}", NOW))
        await scope.budgets().assign(f"{p}b1", AssignmentKind.WORK_ITEM, ["1"], NOW)
        await scope.budgets().assign(f"{p}b2", AssignmentKind.ITERATION, ["7"], NOW)
        worklogs = []
        for n, (user, at, length_s, billable_s, item, kind, budget) in enumerate(data["lines"]):
            length = max(length_s, billable_s)
            billable = billable_s
            flags = {WorklogFlag.MANUAL} | ({WorklogFlag.BILLABLE} if billable else set())
            worklogs.append(Worklog(
                id=f"{p}w{n}", user_id=user, started_at=WINDOW[0] + timedelta(seconds=at), length_s=length,
                billable_length_s=billable, work_item=item, comment=None, activity_type=None,
                added_by=user, flags=frozenset(flags), activity_type_id=kind and p + kind))
            if budget is not None:
                await scope.budgets().assign(p + budget, AssignmentKind.WORKLOG, [f"{p}w{n}"], NOW)
        await scope.tracking().add_worklogs(worklogs, NOW)
        await work.commit()


def _kind(kind_id: str, rate: Money | None) -> Any:
    from core.activities.model import new_activity_type

    return new_activity_type(kind_id, f"Kind {kind_id}", hourly_rate=rate)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(worklog_lines, min_size=0, max_size=30),
    user_rates=st.lists(rates, min_size=3, max_size=3),
    type_rates=st.lists(rates, min_size=2, max_size=2),
    budget_rates=st.lists(rates, min_size=2, max_size=2),
    levels=st.lists(st.sampled_from(list(GroupBy)), min_size=1, max_size=2, unique=True),
    zone=st.sampled_from(ZONES),
    dated=st.booleans(),
    users=st.one_of(st.none(), st.sets(st.sampled_from(USERS), min_size=1)),
)
def test_totals_made_in_sql_equal_the_worklog_by_worklog_sums_on_every_level_zone_and_rate(
    database: Database, lines: list[Any], user_rates: list[int | None], type_rates: list[int | None],
    budget_rates: list[int | None], levels: list[GroupBy], zone: str, dated: bool, users: set[str] | None,
) -> None:
    tenant = _tenant(uuid.uuid4().hex)
    database.run(_store(database, tenant.id, {"lines": lines, "user_rates": user_rates,
                                              "type_rates": type_rates, "budget_rates": budget_rates}))
    # Undated: the zone's offsets come from the first and last matching worklog.
    start, end = (WINDOW[0] + timedelta(days=3), WINDOW[1] - timedelta(days=2)) if dated else (None, None)
    filters = ExplorerFilters(users=frozenset(users) if users else None, start=start, end=end)
    arguments = {"tenant": tenant, "filters": filters, "levels": levels, "time_zone": zone}
    expected = database.run(oracle(database.uow, **arguments))
    assert database.run(group_explored(database.uow, **arguments)) == expected


def test_days_in_sql_follow_the_callers_zone_across_a_summer_time_change(database: Database) -> None:
    """Berlin moves from +1 to +2 at 01:00 UTC on 29 March 2026: 23:30 UTC on the 28th is
    00:30 on the 29th there, 22:30 UTC on the 29th is 00:30 on the 30th; in UTC both stay on
    the day before. An exact half (1,800 s at 3 cents an hour: 1.5) rounds to 2, the other
    (5,400 s: 4.5) to 4."""
    tenant = _tenant(uuid.uuid4().hex)
    before = int((datetime(2026, 3, 28, 23, 30, tzinfo=UTC) - WINDOW[0]).total_seconds())
    after = int((datetime(2026, 3, 29, 22, 30, tzinfo=UTC) - WINDOW[0]).total_seconds())
    lines = [("ann", before, 1_800, 1_800, None, None, None), ("ann", after, 5_400, 5_400, None, None, None)]
    database.run(_store(database, tenant.id, {"lines": lines, "user_rates": [3, None, None],
                                              "type_rates": [None, None], "budget_rates": [None, None]}))
    for zone, days in (("Europe/Berlin", ["2026-03-29", "2026-03-30"]),
                       ("UTC", ["2026-03-28", "2026-03-29"])):
        arguments = {"tenant": tenant, "filters": ExplorerFilters(), "levels": [GroupBy.DAY],
                     "time_zone": zone}
        groups = database.run(group_explored(database.uow, **arguments))
        assert [(g.key["day"], g.amount.amount) for g in groups] == [(days[0], 2), (days[1], 4)]
        assert groups == database.run(oracle(database.uow, **arguments))

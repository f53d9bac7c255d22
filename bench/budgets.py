"""Benchmark: one budget's usage over 100,000 worklogs under a 5,000-item tree, against one
hand-written SQL query computing the same figures on the same data in the same run.

Run: ``python bench/budgets.py [--worklogs N] [--items N] [--samples N]``. It creates a
fresh PostgreSQL database (``stint_bench_<random>``, dropped at the end unless ``--keep``),
migrates it and seeds with COPY one tenant with 25 users, 5,000 work items in a tree up to
a dozen levels deep, 24 iterations, 12 activity types (half with a rate), a rate for every
user, 20 budgets assigned to iterations, subtrees (some nested inside another budget's
subtree) and single worklogs, and 100,000 worklogs over a year (a tenth without a work
item). Then, on the same data:

- ``usage (use case)``: ``core.services.budgets.budget_usage`` for one budget over all
  time — what ``GET /api/v1/budgets/{id}/usage`` runs: the tree, the assignments and the
  worklogs read through the repository, the resolution rule, the rate book (activity type,
  then user: the measured budget has no rate of its own) with one half-even rounding per
  worklog, and the three breakdowns;
- for information, the Budgets pages' read models: one budget's burn-down
  (``budget_burndown``) and the list with every budget's usage (``budgets_overview``);
- ``usage (one SQL query)``: a recursive CTE resolving every work item to its budget (its
  own assignment, else its nearest assigned ancestor's, else its iteration's), the worklogs
  on the budget's items through the (tenant_id, work_item) index less those assigned
  elsewhere one by one, plus those assigned to it directly, the rate precedence, the
  half-even rounding per worklog in integer arithmetic, and the totals and the three
  breakdowns as GROUPING SETS.

It checks the two agree (every total and breakdown row), then prints p50/p95/p99 in
milliseconds and the p95 ratio (target: at most 3×).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from core.clock import FixedClock
from core.services.budget_overview import budget_burndown, budgets_overview
from core.services.budget_usage import budget_usage
from core.services.budgets import BudgetViewer
from core.tenancy import Deployment, LicensingMode, Tenant
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.uow import PiccoloUnitOfWorkFactory

ADMIN_URL = os.environ.get("STINT_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
YEAR_START = datetime(2025, 1, 6, tzinfo=UTC)
TENANT = "t" + "0" * 31
OTHER_TENANT = "t" + "0" * 30 + "1"
USERS = 25
ITERATIONS = 24
ACTIVITY_TYPES = 12
BUDGETS = 20
MEASURED = "b" + "0" * 31
MANAGER = BudgetViewer("manager", sees_all=True)

# THE query: the same figures as budget_usage, from the same tables, in one statement.
USAGE_SQL = """
WITH RECURSIVE
direct AS (
    SELECT target::bigint AS item_id, budget_id FROM budget_assignment
    WHERE tenant_id = $1 AND kind = 'work_item'
),
tree AS (
    -- Top down: an item's budget by assignment is its own, else its parent's (nearest ancestor).
    SELECT w.item_id, d.budget_id, 0 AS depth
    FROM work_item w LEFT JOIN direct d ON d.item_id = w.item_id
    WHERE w.tenant_id = $1 AND (w.parent_id IS NULL OR NOT EXISTS (
        SELECT 1 FROM work_item p WHERE p.tenant_id = $1 AND p.item_id = w.parent_id))
    UNION ALL
    SELECT c.item_id, COALESCE(d.budget_id, t.budget_id), t.depth + 1
    FROM tree t
    JOIN work_item c ON c.tenant_id = $1 AND c.parent_id = t.item_id
    LEFT JOIN direct d ON d.item_id = c.item_id
    WHERE t.depth < 10000
),
resolved AS (
    -- The items whose worklogs resolve to the budget (unless assigned elsewhere one by one):
    -- by assignment (own or nearest ancestor's), else by the item's own iteration.
    SELECT wi.item_id::text AS work_item
    FROM work_item wi
    JOIN tree t ON t.item_id = wi.item_id
    LEFT JOIN budget_assignment ia
        ON ia.tenant_id = $1 AND ia.kind = 'iteration' AND ia.target = wi.iteration_id::text
    WHERE wi.tenant_id = $1 AND COALESCE(t.budget_id, ia.budget_id) = $2
),
mine AS (
    SELECT w.id, w.user_id, w.activity_type, w.activity_type_id, w.work_item, w.length_s, w.billable_length_s
    FROM worklog w
    WHERE w.tenant_id = $1 AND w.work_item IN (SELECT work_item FROM resolved)
      AND NOT EXISTS (SELECT 1 FROM budget_assignment wa WHERE wa.tenant_id = $1 AND wa.kind = 'worklog'
                      AND wa.target = w.id AND wa.budget_id <> $2)
    UNION
    SELECT w.id, w.user_id, w.activity_type, w.activity_type_id, w.work_item, w.length_s, w.billable_length_s
    FROM budget_assignment wa JOIN worklog w ON w.tenant_id = $1 AND w.id = wa.target
    WHERE wa.tenant_id = $1 AND wa.kind = 'worklog' AND wa.budget_id = $2
),
lines AS (
    SELECT m.user_id, m.activity_type, m.work_item, m.length_s, m.billable_length_s AS billable_s,
           COALESCE(b.hourly_rate, at.rate_amount, ur.amount) AS rate
    FROM mine m
    JOIN budget b ON b.tenant_id = $1 AND b.id = $2
    LEFT JOIN activity_type at ON at.tenant_id = $1 AND at.id = m.activity_type_id
    LEFT JOIN user_rate ur ON ur.tenant_id = $1 AND ur.user_id = m.user_id
),
priced AS (
    -- billable_s × rate / 3600, rounded once, half to even, in integers.
    SELECT user_id, activity_type, work_item, length_s, billable_s,
           CASE WHEN rate IS NULL THEN 0 ELSE
               (billable_s::bigint * rate) / 3600
               + CASE WHEN 2 * ((billable_s::bigint * rate) % 3600) > 3600 THEN 1
                      WHEN 2 * ((billable_s::bigint * rate) % 3600) = 3600
                           AND ((billable_s::bigint * rate) / 3600) % 2 = 1 THEN 1
                      ELSE 0 END
           END AS amount
    FROM lines
)
SELECT GROUPING(user_id) AS g_user, GROUPING(activity_type) AS g_type, GROUPING(work_item) AS g_item,
       user_id, activity_type, work_item,
       SUM(length_s)::bigint AS tracked_s, SUM(billable_s)::bigint AS billable_s,
       SUM(amount)::bigint AS amount
FROM priced
GROUP BY GROUPING SETS ((), (user_id), (activity_type), (work_item))
"""


def uid(prefix: str, n: int) -> str:
    return f"{prefix}{n:031d}"


def user_id(n: int) -> str:
    return uid("u", n)


def tree_parents(items: int, rng: random.Random) -> dict[int, int | None]:
    """Item ids 1..items: 10 roots (epics), each later item under a recent earlier one (depth ≤ ~12)."""
    parents: dict[int, int | None] = {}
    depth: dict[int, int] = {}
    for item in range(1, items + 1):
        if item <= 10:
            parents[item], depth[item] = None, 0
            continue
        parent = rng.randrange(max(1, item - 400), item)
        while depth[parent] >= 11:  # too deep: hang it under an ancestor instead
            parent = parents[parent]  # type: ignore[assignment]
        parents[item], depth[item] = parent, depth[parent] + 1
    return parents


async def seed(url: str, worklogs: int, items: int) -> dict[str, Any]:
    rng = random.Random(16)
    connection = await asyncpg.connect(url)
    try:
        for t, tenant in enumerate((TENANT, OTHER_TENANT)):
            await connection.execute(
                "INSERT INTO enterprise (id, name, created_at) VALUES ($1, $2, $3)",
                uid("e", t), f"E{t}", NOW)
            await connection.execute(
                "INSERT INTO subscription (id, enterprise_id, plan_id, interval, seats, status, "
                "period_start, period_end, anchor_day, created_at, updated_at) "
                "VALUES ($1, $2, 'team', 'annual', 100, 'active', $3, $4, 1, $5, $5)",
                uid("s", t), uid("e", t), date(2025, 1, 1), date(2026, 1, 1), NOW)
            await connection.execute(
                "INSERT INTO tenant (id, slug, name, deployment, enterprise_id, subscription_id, created_at) "
                "VALUES ($1, $2, $3, 'cloud', $4, $5, $6)",
                tenant, f"tenant-{t}", f"Tenant {t}", uid("e", t), uid("s", t), NOW)
        await connection.copy_records_to_table(
            "person", records=[(uid("p", u), f"user{u}@bench.test", f"User {u}", NOW) for u in range(USERS)],
            columns=["id", "email", "name", "created_at"])
        await connection.copy_records_to_table(
            "tenant_user",
            records=[(user_id(u), TENANT, uid("p", u), "team", False, False, NOW) for u in range(USERS)],
            columns=["id", "tenant_id", "person_id", "role", "collection_admin", "approval_manager",
                     "created_at"])
        await connection.execute(
            "INSERT INTO rate_setting (tenant_id, currency, updated_at) VALUES ($1, 'USD', $2)", TENANT, NOW)
        await connection.copy_records_to_table(
            "user_rate",
            records=[(uid("r", u), TENANT, user_id(u), 6_000 + 137 * u, "USD", NOW) for u in range(USERS)],
            columns=["id", "tenant_id", "user_id", "amount", "currency", "updated_at"])
        await connection.copy_records_to_table(
            "activity_type",
            records=[(uid("a", a), TENANT, f"Activity {a}", f"activity {a}", "#336699", a % 3 == 0, True,
                      (9_999 + 1_111 * a) if a % 2 == 0 else None, "USD" if a % 2 == 0 else None, NOW, NOW)
                     for a in range(ACTIVITY_TYPES)],
            columns=["id", "tenant_id", "name", "name_key", "color", "billable_by_default", "active",
                     "rate_amount", "rate_currency", "created_at", "updated_at"])
        await connection.copy_records_to_table(
            "iteration",
            records=[(uid("i", i), TENANT, i, f"Shop\\Sprint {i}",
                      (YEAR_START + timedelta(weeks=2 * (i - 1))).date(),
                      (YEAR_START + timedelta(weeks=2 * i, days=-1)).date(), None, NOW)
                     for i in range(1, ITERATIONS + 1)],
            columns=["id", "tenant_id", "iteration_id", "path", "start_on", "finish_on", "external_id",
                     "changed_at"])
        parents = tree_parents(items, rng)
        item_rows = []
        for item, parent in parents.items():
            kind = "Epic" if parent is None else rng.choice(("Feature", "User Story", "Task", "Bug"))
            iteration = None if rng.random() < 0.2 else rng.randrange(1, ITERATIONS + 1)
            item_rows.append((uid("w", item), TENANT, item, f"Item {item}", f"item {item}", kind, "Active",
                              "InProgress", parent, iteration, 1, "", NOW))
        await connection.copy_records_to_table(
            "work_item", records=item_rows,
            columns=["id", "tenant_id", "item_id", "title", "search_title", "type", "state", "state_category",
                     "parent_id", "iteration_id", "rev", "tags", "changed_at"])
        await connection.copy_records_to_table(
            "budget",
            records=[(uid("b", b), TENANT, f"Budget {b:02d}", None, 2_000 * 3600, 25_000_000,
                      None if b == 0 else (12_000 if b % 4 == 1 else None), "USD", None, None, True, None,
                      NOW, NOW)
                     for b in range(BUDGETS)],
            columns=["id", "tenant_id", "name", "description", "limit_s", "amount", "hourly_rate", "currency",
                     "starts_on", "ends_on", "is_open", "customer", "created_at", "updated_at"])
        worklog_ids = [uid("l", n) for n in range(worklogs)]
        assignments: list[tuple[Any, ...]] = []

        def assign(budget: int, kind: str, target: str) -> None:
            assignments.append((uuid.uuid4().hex, TENANT, uid("b", budget), kind, target, NOW))

        # The measured budget: two epics' subtrees, a few deeper subtrees, four iterations and
        # 200 single worklogs; other budgets take subtrees inside its subtrees (which win
        # there), other subtrees and iterations, and single worklogs out of its area.
        assign(0, "work_item", "1")
        assign(0, "work_item", "2")
        for item in rng.sample(range(11, items + 1), 15):
            assign(0, "work_item", str(item))
        for iteration in (3, 7, 11, 19):
            assign(0, "iteration", str(iteration))
        used_items = {int(a[4]) for a in assignments}
        for b in range(1, BUDGETS):
            for item in rng.sample([i for i in range(3, items + 1) if i not in used_items], 12):
                used_items.add(item)
                assign(b, "work_item", str(item))
        for b, iteration in zip(range(1, BUDGETS), (1, 2, 4, 5, 6, 8, 9, 10, 12, 13), strict=False):
            assign(b, "iteration", str(iteration))
        for index, worklog in enumerate(rng.sample(worklog_ids, 600)):
            assign(0 if index < 200 else 1 + index % (BUDGETS - 1), "worklog", worklog)
        await connection.copy_records_to_table(
            "budget_assignment", records=assignments,
            columns=["id", "tenant_id", "budget_id", "kind", "target", "created_at"])

        def worklog_rows() -> Any:
            for n, worklog in enumerate(worklog_ids):
                user = n % USERS
                start = YEAR_START + timedelta(days=rng.randrange(364), hours=8 + rng.randrange(9),
                                               minutes=rng.randrange(60))
                item = None if rng.random() < 0.1 else str(rng.randrange(1, items + 1))
                length = 60 * rng.randrange(5, 480)
                billable = length if rng.random() < 0.6 else (length // 3 if rng.random() < 0.5 else 0)
                activity = rng.randrange(ACTIVITY_TYPES) if rng.random() < 0.9 else None
                yield (worklog, TENANT, user_id(user), start, length, billable, item, None,
                       None if activity is None else f"Activity {activity}", user_id(user), "manual", False,
                       None, NOW, NOW, None if activity is None else uid("a", activity))

        columns = ["id", "tenant_id", "user_id", "started_at", "length_s", "billable_length_s", "work_item",
                   "comment", "activity_type", "added_by", "flags", "owner_edited", "stop_reason",
                   "created_at", "updated_at", "activity_type_id"]
        rows = worklog_rows()
        while chunk := [row for _, row in zip(range(50_000), rows, strict=False)]:
            await connection.copy_records_to_table("worklog", records=chunk, columns=columns)
        # A neighbour tenant with as many worklogs: every query must filter it out.
        await connection.execute(
            "INSERT INTO worklog (id, tenant_id, user_id, started_at, length_s, billable_length_s, "
            "work_item, activity_type, added_by, flags, owner_edited, created_at, updated_at) "
            "SELECT 'x' || substr(id, 2), $2, user_id, started_at, length_s, billable_length_s, work_item, "
            "activity_type, added_by, flags, owner_edited, created_at, updated_at "
            "FROM worklog WHERE tenant_id = $1",
            TENANT, OTHER_TENANT)
        await connection.execute("VACUUM ANALYZE")
        return {"assignments": len(assignments)}
    finally:
        await connection.close()


def tenant() -> Tenant:
    return Tenant(id=TENANT, slug="tenant-0", name="Tenant 0", deployment=Deployment.CLOUD,
                  enterprise_id=uid("e", 0), subscription_id=uid("s", 0), time_zone="UTC",
                  default_role="team", licensing_mode=LicensingMode.AUTOMATIC, uninstalled_at=None,
                  created_at=NOW)


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def row(name: str, samples: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = percentiles(samples)
    print(f"{name:<24} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms   p99 {p99:8.2f} ms   ({len(samples)} runs)")
    return p50, p95, p99


async def _once(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


def figures_of_sql(rows: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"by_user": {}, "by_activity_type": {}, "by_work_item": {}}
    for r in rows:
        figures = (int(r["tracked_s"]), int(r["billable_s"]), int(r["amount"]))
        if r["g_user"] and r["g_type"] and r["g_item"]:
            out["total"] = figures
        elif not r["g_user"]:
            out["by_user"][r["user_id"]] = figures
        elif not r["g_type"]:
            out["by_activity_type"][r["activity_type"]] = figures
        else:
            out["by_work_item"][None if r["work_item"] is None else int(r["work_item"])] = figures
    return out


def figures_of_usage(usage: Any) -> dict[str, Any]:
    def rows(breakdown: Any) -> dict[Any, tuple[int, int, int]]:
        return {r.key: (r.tracked_s, r.billable_s, r.amount.amount) for r in breakdown}

    return {
        "total": (usage.tracked_s, usage.billable_s, usage.amount.amount),
        "by_user": rows(usage.by_user),
        "by_activity_type": rows(usage.by_activity_type),
        "by_work_item": rows(usage.by_work_item),
    }


async def measure(url: str, args: argparse.Namespace) -> None:
    engine = await storage_engine.open_engine(url, pool_size=4)
    storage_engine.bind(engine)
    uow = PiccoloUnitOfWorkFactory(engine)
    # JIT off for the hand-written query: the recursive CTE's row estimate (hundreds of
    # thousands for 5,000 items) makes PostgreSQL compile it, which costs more than it runs.
    raw = await asyncpg.connect(url, server_settings={"jit": "off"})
    the_tenant = tenant()

    async def use_case() -> Any:
        _, usage = await budget_usage(uow, tenant=the_tenant, viewer=MANAGER, budget_id=MEASURED,
                                      start=None, end=None)
        return usage

    async def one_query() -> Any:
        return await raw.fetch(USAGE_SQL, TENANT, MEASURED)

    usage = await use_case()
    by_sql = figures_of_sql(await one_query())
    by_use_case = figures_of_usage(usage)
    agree = by_sql == by_use_case
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="enabled")
        profiler.start()
        for _ in range(3):
            await use_case()
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    # Warm both, then alternate the order pair by pair so neither side pays for a cold cache.
    for _ in range(2):
        await use_case()
        await one_query()
    a: list[float] = []
    b: list[float] = []
    for index in range(args.samples):
        if index % 2:
            b.append(await _once(one_query))
            a.append(await _once(use_case))
        else:
            a.append(await _once(use_case))
            b.append(await _once(one_query))
    # The Budgets pages' read models on the same data (for information; not in the ratio).
    clock = FixedClock(NOW)
    runs = max(5, args.samples // 3)
    page = [await _once(lambda: budget_burndown(uow, clock, tenant=the_tenant, viewer=MANAGER,
                                                budget_id=MEASURED)) for _ in range(runs)]
    listing = [await _once(lambda: budgets_overview(uow, tenant=the_tenant, viewer=MANAGER))
               for _ in range(runs)]
    counts = await raw.fetchrow(
        "SELECT (SELECT count(*) FROM worklog WHERE tenant_id = $1) AS worklogs, "
        "(SELECT count(*) FROM work_item WHERE tenant_id = $1) AS items, "
        "(SELECT count(*) FROM budget_assignment WHERE tenant_id = $1) AS assignments", TENANT)
    server = str(await raw.fetchval("SELECT version()")).split(" on ")[0]
    await raw.close()
    await storage_engine.close(engine)

    print(f"python   {platform.python_implementation()} {platform.python_version()}")
    print(f"machine  {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"data     {counts['worklogs']:,} worklogs (and as many of another tenant), "
          f"{counts['items']:,} work items, {counts['assignments']:,} assignments; {server}")
    total = by_use_case["total"]
    print(f"budget   {total[0] / 3600:,.1f} h tracked, {total[1] / 3600:,.1f} h billable, "
          f"{total[2] / 100:,.2f} USD over {len(by_use_case['by_work_item']):,} work items")
    print(f"agree    {'yes: every total and breakdown row' if agree else 'NO'}")
    _, use_p95, _ = row("usage (use case)", a)
    _, sql_p95, _ = row("usage (one SQL query)", b)
    print(f"ratio    {use_p95 / sql_p95:.2f}× (p95, use case / one query; target ≤ 3×)")
    row("budget page (burn-down)", page)
    row("budgets list (all 20)", listing)
    if not agree:
        for key in by_sql:
            if by_sql[key] != by_use_case.get(key):
                print(f"differs  {key}")
        raise SystemExit(1)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worklogs", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the use case")
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure a database an earlier --keep run seeded")
    args = parser.parse_args()
    name = args.reuse or f"stint_bench_{uuid.uuid4().hex[:10]}"
    base = ADMIN_URL.rsplit("/", 1)[0]
    admin = await asyncpg.connect(ADMIN_URL)
    url = f"{base}/{name}"
    try:
        if not args.reuse:
            await admin.execute(f'CREATE DATABASE "{name}"')
            engine = await storage_engine.open_engine(url, pool_size=2)
            storage_engine.bind(engine)
            await upgrade(engine)
            await storage_engine.close(engine)
            started = time.perf_counter()
            await seed(url, args.worklogs, args.items)
            print(f"seeded   {name} in {time.perf_counter() - started:,.1f} s")
        await measure(url, args)
    finally:
        if not (args.keep or args.reuse):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark: the Times Explorer's hot paths over HTTP at 10 million worklogs, against
hand-written SQL on the same data in the same run (issue #17).

Run: ``python bench/explorer.py [--worklogs N] [--samples N] [--keep | --reuse DATABASE]``.
It creates a PostgreSQL database (``stint_bench_explorer`` unless ``--database``; dropped
at the end unless ``--keep``), migrates it and seeds it with ``bench/seeding.py`` (the
tracking bench's year of work: 1,000 tenants, 50,000 users, 10 million worklogs by COPY)
plus six activity types per tenant (every other one with a rate), a rate for every user
and billable lengths off the quarter hour. The first user of each tenant is a Product user.
Stint runs under uvicorn in a child process (as ``stint serve`` runs it); the bench signs
in as the Product users of ``--tenants-measured`` tenants and, on random tenants and months:

- ``page``: ``GET /api/v1/worklogs/all?from=&to=&activity_types=&limit=100`` — a month of
  the whole tenant filtered by one activity type, the first page of 100 (with titles and
  budgets) — against the same ``SELECT … ORDER BY started_at, id LIMIT 101`` by hand;
- ``group``: ``GET /api/v1/worklogs/all?from=&to=&group_by=user,week`` — a month grouped by
  user then week, every worklog priced (activity type rate, else user rate) and rounded
  half-even once — against one hand-written ``GROUP BY`` doing the same pricing with joins
  (the bench checks the two agree);
- ``batch``: ``POST /api/v1/worklogs/batch`` of 5,000 worklogs against one asyncpg
  ``executemany`` INSERT of 5,000 such rows in a transaction.

The hand-written SQL runs over one asyncpg connection of this process (no HTTP): the ratio
is the whole app's cost over the query's. For scale, ``bare HTTP`` is a JSON route with no
work in the same server: the floor of any request here. Pairs run back to back in
alternating order after an untimed pass. Prints p50/p95/p99 (ms) and the p95 ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench.harness import Http, _once, data_arguments, paired, product_tokens, row, run
from bench.seeding import activity_type_id, tenant_id, user_id

BATCH = 5_000
MONTHS = [date(2025, m, 1) for m in range(2, 12)]


_PAGE_SQL = """
SELECT id, user_id, started_at, length_s, billable_length_s, work_item, comment, activity_type,
       activity_type_id, added_by, flags, owner_edited
FROM worklog
WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3 AND activity_type_id = ANY($4::varchar[])
ORDER BY started_at, id LIMIT 101
"""

# The same pricing as core.rates (activity type rate, else user rate; the bench seeds no
# budgets), rounded half-even per worklog in integers, summed per user and ISO week (UTC:
# the Product users have no zone of their own and the tenants are in UTC).
_GROUP_SQL = """
SELECT r.user_id, to_char(r.started_at AT TIME ZONE 'UTC', 'IYYY-"W"IW') AS week,
       sum(r.length_s) AS tracked, sum(r.billable_length_s) AS billable,
       sum(r.p / 3600 + CASE WHEN 2 * (r.p % 3600) > 3600
                              OR (2 * (r.p % 3600) = 3600 AND (r.p / 3600) % 2 = 1)
                             THEN 1 ELSE 0 END) AS amount
FROM (SELECT w.user_id, w.started_at, w.length_s, w.billable_length_s,
             w.billable_length_s::bigint * coalesce(a.rate_amount, u.amount) AS p
      FROM worklog w
      LEFT JOIN activity_type a ON a.tenant_id = w.tenant_id AND a.id = w.activity_type_id
      LEFT JOIN user_rate u ON u.tenant_id = w.tenant_id AND u.user_id = w.user_id
      WHERE w.tenant_id = $1 AND w.started_at >= $2 AND w.started_at < $3) AS r
GROUP BY 1, 2 ORDER BY 1, 2
"""

_INSERT_SQL = """
INSERT INTO worklog (id, tenant_id, user_id, started_at, length_s, billable_length_s, work_item, comment,
                     added_by, flags, owner_edited, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $3, 'manual', false, $8, $8)
"""


def _month(month: date) -> tuple[datetime, datetime, str, str]:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    start = datetime.combine(month, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(following, datetime.min.time(), tzinfo=UTC)
    return start, end, month.isoformat(), (following - timedelta(days=1)).isoformat()


async def measure(url: str, server: object, port: int, args: argparse.Namespace) -> dict[str, float]:
    raw = await asyncpg.connect(url)
    http = Http(port)
    rng = random.Random(11)
    measured = [t * (args.tenants // args.tenants_measured) for t in range(args.tenants_measured)]
    tokens = await product_tokens(raw, http, measured)
    picks = [(rng.choice(measured), rng.choice(MONTHS)) for _ in range(args.samples)]

    # Timed, the answers are read to their last byte but not decoded: Python's json.loads of a
    # 100-worklog page (42 KB) takes the bench ~0.6 ms, which is the client's cost, not Stint's
    # (the hand-written side's rows are decoded by asyncpg, in C). The checks below decode them.
    def page(t: int, month: date, parse: bool = False) -> Callable[[], Awaitable[object]]:
        _, _, first, last = _month(month)
        path = (f"/api/v1/worklogs/all?from={first}&to={last}&activity_types={activity_type_id(t, 0)}"
                f"&limit=100")
        return lambda: http.ok("GET", path, tokens[t], parse=parse)

    def page_sql(t: int, month: date) -> Callable[[], Awaitable[object]]:
        start, end, _, _ = _month(month)
        return lambda: raw.fetch(_PAGE_SQL, tenant_id(t), start, end, [activity_type_id(t, 0)])

    def group(t: int, month: date, parse: bool = False) -> Callable[[], Awaitable[object]]:
        _, _, first, last = _month(month)
        path = f"/api/v1/worklogs/all?from={first}&to={last}&group_by=user,week"
        return lambda: http.ok("GET", path, tokens[t], parse=parse)

    def group_sql(t: int, month: date) -> Callable[[], Awaitable[object]]:
        start, end, _, _ = _month(month)
        return lambda: raw.fetch(_GROUP_SQL, tenant_id(t), start, end)

    # The two agree (on a few samples): the same pages, the same totals to the cent.
    for t, month in picks[:5]:
        answer = await page(t, month, parse=True)()
        rows = await page_sql(t, month)()
        assert [i["id"] for i in answer["items"]] == [r["id"] for r in rows[:100]], "page differs"  # type: ignore[index]
        groups = await group(t, month, parse=True)()
        mine = {(g["key"]["user_id"], s["key"]["week"]):
                (s["tracked_s"], s["billable_s"], s["amount"]["amount"])
                for g in groups["groups"] for s in g["groups"]}  # type: ignore[index]
        theirs = {(r["user_id"], r["week"]): (r["tracked"], r["billable"], r["amount"])
                  for r in await group_sql(t, month)()}  # type: ignore[attr-defined]
        assert mine == theirs, "group totals differ"

    async def bare() -> None:
        await http.ok("GET", "/bench/bare")

    bares = [await _once(bare) for _ in range(args.samples)]
    pages, page_sqls = await paired([page(t, m) for t, m in picks], [page_sql(t, m) for t, m in picks])
    groups_, group_sqls = await paired([group(t, m) for t, m in picks], [group_sql(t, m) for t, m in picks])

    # Batches: 5,000 quarter hours each, for the caller, in November 2026 (after the seeded
    # year, before today: neither locked nor in the future); each batch its own days.
    def lines(n: int) -> list[dict[str, Any]]:
        base = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=2 * n)
        return [{"started_at": (base + timedelta(seconds=30 * i)).isoformat(), "length_s": 20,
                 "billable_length_s": 20, "comment": "bench"} for i in range(BATCH)]

    def batch(t: int, n: int) -> Callable[[], Awaitable[object]]:
        body = {"worklogs": lines(n)}
        return lambda: http.ok("POST", "/api/v1/worklogs/batch", tokens[t], body)

    def batch_sql(t: int, n: int) -> Callable[[], Awaitable[object]]:
        base = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=2 * n + 1)
        now = datetime.now(UTC)
        rows = [(uuid.uuid4().hex, tenant_id(t), user_id(t), base + timedelta(seconds=30 * i), 20, 20,
                 "bench", now) for i in range(BATCH)]

        async def go() -> None:
            async with raw.transaction():
                await raw.executemany(_INSERT_SQL, rows)
        return go

    batch_picks = [(measured[n % len(measured)], n) for n in range(args.batches)]
    batches, batch_sqls = await paired([batch(t, n) for t, n in batch_picks],
                                       [batch_sql(t, n) for t, n in batch_picks], warm=False)
    http.close()
    await raw.close()
    print(f"python   {platform.python_implementation()} {platform.python_version()}")
    print(f"machine  {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"data     {args.count:,} worklogs, {args.tenants:,} tenants, {args.users:,} users; {args.server}")
    row("bare HTTP (floor)", bares)
    result = {
        "page": row("page (GET /worklogs/all)", pages) / row("page (hand-written SQL)", page_sqls),
        "group": row("group user,week (GET)", groups_)
        / row("group user,week (hand-written SQL)", group_sqls),
        "batch": row("batch 5,000 (POST)", batches) / row("batch 5,000 (executemany)", batch_sqls),
    }
    print("ratio    " + "   ".join(f"{name} {value:.1f}×" for name, value in result.items())
          + "   (p95, Stint over HTTP / hand-written SQL)")
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    data_arguments(parser, database="stint_bench_explorer")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--tenants-measured", type=int, default=20)
    await run(parser.parse_args(), measure)


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark: the Reporting API (OData, issue #18) at 10 million worklogs, against hand-written
SQL on the same data in the same run.

Run: ``python bench/reporting.py [--worklogs N] [--tenants N] [--samples N]
[--keep | --reuse | --seed-only]``.
It creates a PostgreSQL database (``stint_bench_reporting`` unless ``--database``; dropped at
the end unless ``--keep``), migrates it and seeds it with ``bench/seeding.py`` (the tracking
bench's year of work by COPY: 50,000 users, 10 million worklogs, six activity types per
tenant with rates) over 100 tenants, so one tenant holds 100,000 worklogs of 500 users. The
first user of each tenant is a Product user (sees everyone's time). Stint runs under uvicorn
in a child process (as ``stint serve`` runs it, the explorer bench's ``serve``); the bench
signs in as the Product users of ``--tenants-measured`` tenants and measures:

- ``month``: one tenant's year grouped by user and month with the sum of period length,
  ``GET /api/odata/v1/workLogs?$apply=filter(…)/compute(year(Timestamp) as Year,
  month(Timestamp) as Month)/groupby((User/Id,Year,Month),aggregate(PeriodLength with sum as
  Total))`` against the raw ``GROUP BY`` over one asyncpg connection (p50/p95/p99, ratio of
  the p95s; target ≤ 3×);
- ``paging``: following ``@odata.nextLink`` through ``--page-rows`` (100,000) worklogs of one
  tenant (``--page-size`` a page, 1,000 by default, whole rows) against a raw keyset scan
  (``(started_at, id) > (…)``, the same number a fetch) of the same rows; rows/s of each
  (target ≥ 0.5×), and the server child's peak RSS (``VmHWM``) before and after, to show
  memory stays flat. Another page size than the server's own 1,000 is asked for with
  ``Prefer: odata.maxpagesize`` (workLogs honours up to 5,000), as Power BI can.

Before timing, the answers are checked against the hand-written SQL's (the same groups and
totals; the same ids in the same order).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench.harness import Http, data_arguments, paired, product_tokens, row, run
from bench.seeding import tenant_id

ACTIVITY_TYPES = 6
YEAR_FROM = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_TO = datetime(2026, 1, 1, tzinfo=UTC)

_APPLY = (
    "filter(Timestamp ge 2025-01-01T00:00:00Z and Timestamp lt 2026-01-01T00:00:00Z)"
    "/compute(year(Timestamp) as Year,month(Timestamp) as Month)"
    "/groupby((User/Id,Year,Month),aggregate(PeriodLength with sum as Total))"
)

_MONTH_SQL = """
SELECT w.user_id, CAST(EXTRACT(YEAR FROM w.started_at AT TIME ZONE 'UTC') AS int) AS year,
       CAST(EXTRACT(MONTH FROM w.started_at AT TIME ZONE 'UTC') AS int) AS month,
       SUM(w.length_s) AS total
FROM worklog w
WHERE w.tenant_id = $1 AND w.started_at >= $2 AND w.started_at < $3
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""

_KEYSET_SQL = """
SELECT id, user_id, started_at, length_s, billable_length_s, activity_type_id, comment, work_item,
       created_at, updated_at
FROM worklog
WHERE tenant_id = $1 AND (started_at, id) > ($2, $3)
ORDER BY started_at, id LIMIT {limit}
"""


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident set (``VmHWM``), KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def measure(url: str, server: subprocess.Popen[bytes], port: int, args: argparse.Namespace) -> None:
    raw = await asyncpg.connect(url)
    http = Http(port)
    rng = random.Random(5)
    measured = [t * (args.tenants // args.tenants_measured) for t in range(args.tenants_measured)]
    tokens = await product_tokens(raw, http, measured)
    rss_start = peak_rss_kib(server.pid)
    picks = [rng.choice(measured) for _ in range(args.samples)]

    def month(t: int) -> Callable[[], Awaitable[Any]]:
        path = f"/api/odata/v1/workLogs?$apply={quote(_APPLY, safe='()/,$')}"
        return lambda: http.ok("GET", path, tokens[t])

    def month_sql(t: int) -> Callable[[], Awaitable[Any]]:
        return lambda: raw.fetch(_MONTH_SQL, tenant_id(t), YEAR_FROM, YEAR_TO)

    # The same page size on both sides (in the raw text, as before: not a parameter, which
    # could move PostgreSQL to another plan); the server's own (1,000) needs no preference.
    keyset_sql = _KEYSET_SQL.format(limit=int(args.page_size))
    prefer = () if args.page_size == 1000 else (f"Prefer: odata.maxpagesize={args.page_size}",)

    async def pages(t: int) -> list[str]:
        """Every id, following @odata.nextLink until ``--page-rows`` rows."""
        ids: list[str] = []
        path = "/api/odata/v1/workLogs"
        while len(ids) < args.page_rows:
            body = await http.ok("GET", path, tokens[t], headers=prefer)
            ids += [r["Id"] for r in body["value"]]
            if "@odata.nextLink" not in body:
                break
            path = _path(body["@odata.nextLink"])
        return ids

    async def keyset(t: int) -> list[str]:
        ids: list[str] = []
        after: tuple[datetime, str] = (datetime(1970, 1, 1, tzinfo=UTC), "")
        while len(ids) < args.page_rows:
            rows = await raw.fetch(keyset_sql, tenant_id(t), *after)
            ids += [r["id"] for r in rows]
            if len(rows) < args.page_size:
                break
            after = (rows[-1]["started_at"], rows[-1]["id"])
        return ids

    # The two agree before anything is timed: the same groups and totals, the same rows in order.
    for t in measured[:3]:
        mine = {(g["User"]["Id"], g["Year"], g["Month"]): g["Total"] for g in (await month(t)())["value"]}
        theirs = {(r["user_id"], r["year"], r["month"]): r["total"] for r in await month_sql(t)()}
        assert mine == theirs and len(mine) > 100, "month totals differ"
    t = measured[0]
    got, want = await pages(t), await keyset(t)
    assert got == want and len(got) >= min(args.page_rows, 1000), "paging differs"

    months, month_sqls = await paired([month(t) for t in picks], [month_sql(t) for t in picks])

    scans: list[tuple[float, float, int]] = []
    for scan in range(args.scans):
        t = measured[scan % len(measured)]
        sides = (pages, keyset)
        timed: dict[int, float] = {}
        for index in (0, 1) if scan % 2 == 0 else (1, 0):
            started = time.perf_counter()
            n = len(await sides[index](t))
            timed[index] = time.perf_counter() - started
        scans.append((n / timed[0], n / timed[1], n))
    # The floor under a page: one row's request (routing, authentication, the access
    # decision, the per-query context, the transaction) and the bare Litestar route.
    floors: dict[str, list[float]] = {"one": [], "bare": []}
    for _ in range(args.samples):
        for name, path in (("one", "/api/odata/v1/workLogs?$top=1"), ("bare", "/bench/bare")):
            started = time.perf_counter()
            await http.ok("GET", path, tokens[measured[0]])
            floors[name].append((time.perf_counter() - started) * 1000)
    rss_end = peak_rss_kib(server.pid)
    http.close()
    await raw.close()

    load = os.getloadavg()
    print(f"python   {platform.python_implementation()} {platform.python_version()}")
    print(f"machine  {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"data     {args.count:,} worklogs, {args.tenants:,} tenants, {args.users:,} users; {args.server}")
    ratio = row("month (OData $apply)", months) / row("month (hand-written GROUP BY)", month_sqls)
    odata_rate = sorted(s[0] for s in scans)[len(scans) // 2]
    sql_rate = sorted(s[1] for s in scans)[len(scans) // 2]
    print(f"paging   {scans[0][2]:,} rows, {args.page_size:,} a page: OData nextLink {odata_rate:,.0f} "
          f"rows/s, raw keyset {sql_rate:,.0f} rows/s (median of {len(scans)})")
    one, bare = (sorted(floors[k])[len(floors[k]) // 2] for k in ("one", "bare"))
    print(f"floor    a one-row page {one:.1f} ms, the bare route {bare:.1f} ms (medians of {args.samples}): "
          f"1,000-row pages at the one-row page's cost would be {1000 / one * 1000:,.0f} rows/s")
    print(f"memory   server peak RSS {rss_start / 1024:,.1f} MiB after sign-in, "
          f"{rss_end / 1024:,.1f} MiB at the end")
    print(f"ratio    month p95 {ratio:.2f}× (target ≤ 3×)   paging {odata_rate / sql_rate:.2f}× "
          "the raw keyset's rows/s (target ≥ 0.5×)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    # 100 tenants (not the tracking bench's 1,000): one tenant then holds 100,000 worklogs to page through.
    data_arguments(parser, database="stint_bench_reporting", tenants=100)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--scans", type=int, default=4, help="paging runs (each side)")
    parser.add_argument("--page-rows", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=1000,
                        help="rows a page, OData (Prefer: odata.maxpagesize) and the raw scan alike")
    parser.add_argument("--tenants-measured", type=int, default=10)
    await run(parser.parse_args(), measure)


if __name__ == "__main__":
    asyncio.run(main())

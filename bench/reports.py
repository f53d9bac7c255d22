"""Benchmark: the Reports page (issue #19) at 10 million worklogs — the whole page rendered
by the server, and its heaviest widget's query against hand-written SQL, in the same run.

Run: ``python bench/reports.py [--worklogs N] [--samples N] [--keep | --reuse]``. It seeds
its own PostgreSQL database (``stint_bench_reports`` unless ``--database``; dropped at the
end unless ``--keep``) exactly as the explorer bench does (``bench/seeding.py``: 1,000
tenants, 50,000 users, 10 million worklogs over a year by COPY, six activity types per
tenant, a rate for every user, 200 work items per tenant), and serves Stint under uvicorn in
a child process. As the Product user of ``--tenants-measured`` tenants, on random tenants
and two-month ranges (the page's default span), it measures:

- ``page``: ``GET /reports/?from=&to=`` — the whole HTML page: every widget, each a grouped
  statement of the explorer's query path, plus the tree, budgets, users and working hours;
- ``day``: the heaviest widget's query — time by day, every worklog priced and rounded
  half-even once, summed per local day — as ``GET /api/v1/worklogs/all?group_by=day`` (the
  same ``group_explored`` the widget calls) against one hand-written ``GROUP BY`` doing the
  same pricing with joins (the bench checks the two agree to the cent first);
- the other widgets' queries (``group_by=user|activity_type|work_item|budget``) for scale.

Prints p50/p95/p99 (ms) and the p95 ratios, the machine and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench.harness import Http, data_arguments, paired, product_tokens, row, run
from bench.seeding import tenant_id

#: Two-month ranges inside the seeded year (2025).
STARTS = [date(2025, m, 1) for m in range(2, 11)]

_DAY_SQL = """
SELECT (r.started_at AT TIME ZONE 'UTC')::date AS day,
       sum(r.length_s) AS tracked, sum(r.billable_length_s) AS billable,
       sum(r.p / 3600 + CASE WHEN 2 * (r.p % 3600) > 3600
                              OR (2 * (r.p % 3600) = 3600 AND (r.p / 3600) % 2 = 1)
                             THEN 1 ELSE 0 END) AS amount
FROM (SELECT w.started_at, w.length_s, w.billable_length_s,
             w.billable_length_s::bigint * coalesce(a.rate_amount, u.amount) AS p
      FROM worklog w
      LEFT JOIN activity_type a ON a.tenant_id = w.tenant_id AND a.id = w.activity_type_id
      LEFT JOIN user_rate u ON u.tenant_id = w.tenant_id AND u.user_id = w.user_id
      WHERE w.tenant_id = $1 AND w.started_at >= $2 AND w.started_at < $3) AS r
GROUP BY 1 ORDER BY 1
"""


def _span(first: date) -> tuple[datetime, datetime, str, str]:
    """Two whole months from ``first``: UTC bounds and the page's from/to (both included)."""
    after = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    after = (after.replace(day=28) + timedelta(days=4)).replace(day=1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(after, datetime.min.time(), tzinfo=UTC)
    return start, end, first.isoformat(), (after - timedelta(days=1)).isoformat()


async def _html(http: Http, path: str, token: str) -> int:
    """GET a page on the keep-alive connection; its length (the page must be whole and 200)."""
    if http.writer is None:
        http.reader, http.writer = await asyncio.open_connection("127.0.0.1", http.port)
    assert http.reader is not None
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    http.writer.write(head.encode())
    raw = await http.reader.readuntil(b"\r\n\r\n")
    length, chunked = 0, False
    for line in raw.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
        if line.lower() == b"transfer-encoding: chunked":
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await http.reader.readuntil(b"\r\n")).strip(), 16)
            body += await http.reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        body = await http.reader.readexactly(length)
    status = int(raw[9:12])
    if status != 200 or b'id="widget-time-day"' not in body:
        raise RuntimeError(f"GET {path} → {status}")
    return len(body)


async def measure(url: str, server: object, port: int, args: argparse.Namespace) -> None:
    raw = await asyncpg.connect(url)
    http = Http(port)
    rng = random.Random(19)
    measured = [t * (args.tenants // args.tenants_measured) for t in range(args.tenants_measured)]
    tokens = await product_tokens(raw, http, measured)
    picks = [(rng.choice(measured), rng.choice(STARTS)) for _ in range(args.samples)]

    def page(t: int, first: date) -> Callable[[], Awaitable[object]]:
        _, _, lo, hi = _span(first)
        return lambda: _html(http, f"/reports/?from={lo}&to={hi}", tokens[t])

    def grouped(level: str, t: int, first: date) -> Callable[[], Awaitable[object]]:
        _, _, lo, hi = _span(first)
        return lambda: http.ok("GET", f"/api/v1/worklogs/all?from={lo}&to={hi}&group_by={level}", tokens[t])

    def day_sql(t: int, first: date) -> Callable[[], Awaitable[object]]:
        start, end, _, _ = _span(first)
        return lambda: raw.fetch(_DAY_SQL, tenant_id(t), start, end)

    # The widget's query and the hand-written one agree, day by day, to the cent.
    for t, first in picks[:5]:
        answer = await grouped("day", t, first)()
        mine = {g["key"]["day"]: (g["tracked_s"], g["billable_s"], g["amount"]["amount"])
                for g in answer["groups"]}  # type: ignore[index]
        theirs = {r["day"].isoformat(): (r["tracked"], r["billable"], r["amount"])
                  for r in await day_sql(t, first)()}  # type: ignore[attr-defined]
        assert mine == theirs, "day totals differ"

    for t, f in picks:  # an untimed pass: every sample's pages warm, as for the pairs below
        await page(t, f)()
    page_times = [await _timed(page(t, f)) for t, f in picks]
    days, day_sqls = await paired([grouped("day", t, f) for t, f in picks], [day_sql(t, f) for t, f in picks])
    others = {level: [await _timed(grouped(level, t, f)) for t, f in picks[: max(args.samples // 3, 20)]]
              for level in ("user", "activity_type", "work_item", "budget")}
    http.close()
    await raw.close()
    print(f"python   {platform.python_implementation()} {platform.python_version()}")
    print(f"machine  {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"data     {args.count:,} worklogs, {args.tenants:,} tenants, {args.users:,} users; {args.server}")
    page_p95 = row("page (GET /reports/, 2 months)", page_times)
    ratio = row("time by day (group_explored)", days) / row("time by day (hand-written SQL)", day_sqls)
    for level, samples in others.items():
        row(f"time by {level} (group_explored)", samples)
    print(f"page p95 {page_p95:.1f} ms (target < 300 ms); time by day p95 ratio {ratio:.1f}× "
          "(Stint over HTTP / hand-written SQL)")


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    started = asyncio.get_running_loop().time()
    await call()
    return (asyncio.get_running_loop().time() - started) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    data_arguments(parser, database="stint_bench_reports")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--tenants-measured", type=int, default=20)
    await run(parser.parse_args(), measure)


if __name__ == "__main__":
    asyncio.run(main())

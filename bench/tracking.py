"""Benchmark: timesheet weeks and timer start/stop at scale, against raw indexed SQL.

Run: ``python bench/tracking.py [--worklogs N]``. It creates a fresh PostgreSQL
database (``stint_bench_<random>``, dropped at the end unless ``--keep``), migrates
it, seeds 1,000 tenants, 50,000 users and 10 million worklogs (a year of work)
with COPY (``bench/seeding.py``, shared with the explorer bench), then measures on
the same data in the same run:

- ``timesheet week``: the use case behind ``GET /api/v1/timesheet?week=`` (the
  user's zone, the week's worklogs through the (tenant_id, user_id, started_at)
  index, its status, the lock rules and the grid), against the bare indexed
  ``SELECT`` of that user's week over one asyncpg connection;
- ``start`` / ``stop``: the timer use cases (write transaction, user lock, rules,
  limits, worklog and work-item outbox rows), against a raw transaction doing the
  same row locks and writes; per user, a start and stop of each, in alternating order.

It prints p50/p95/p99 in milliseconds and the p95 ratios: the ratios are what to
compare across machines.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench.seeding import NOW, YEAR_START, seed, tenant_id, user_id
from core.clock import FixedClock
from core.services.timesheets import week_view
from core.services.tracking import start_tracking, stop_tracking
from core.tenancy import Deployment, LicensingMode, Tenant, User
from core.tracking import week_of
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.uow import PiccoloUnitOfWorkFactory

ADMIN_URL = os.environ.get("STINT_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


async def timed(calls: list[Callable[[], Awaitable[object]]]) -> list[float]:
    for call in calls[: max(1, len(calls) // 10)]:
        await call()  # warm the pool, the plan cache and the interpreter
    times = []
    for call in calls:
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def paired(
    first: list[Callable[[], Awaitable[object]]], second: list[Callable[[], Awaitable[object]]]
) -> tuple[list[float], list[float]]:
    """Time two ways of reading the same data under the same cache state.

    One untimed pass reads every sample (so neither side pays for the other's cold
    pages), then the pairs run back to back in alternating order.
    """
    for call in first:
        await call()
    a, b = [], []
    for index, (one, two) in enumerate(zip(first, second, strict=True)):
        if index % 2:
            b.append(await _once(two))
            a.append(await _once(one))
        else:
            a.append(await _once(one))
            b.append(await _once(two))
    return a, b


def row(name: str, samples: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = percentiles(samples)
    print(f"{name:<28} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   p99 {p99:7.2f} ms")
    return p50, p95, p99


def tenant_of(t: int) -> Tenant:
    return Tenant(id=tenant_id(t), slug=f"tenant-{t}", name=f"Tenant {t}", deployment=Deployment.CLOUD,
                  enterprise_id=f"e{t:031d}", subscription_id=f"s{t:031d}", time_zone="UTC",
                  default_role="team", licensing_mode=LicensingMode.AUTOMATIC, uninstalled_at=None,
                  created_at=NOW)


def user_of(u: int, tenants: int) -> User:
    return User(id=user_id(u), tenant_id=tenant_id(u % tenants), person_id=f"p{u:031d}",
                email=f"user{u}@bench.test", name=f"User {u}", role="team", collection_admin=False,
                approval_manager=False, last_used_at=None)


async def measure(url: str, args: argparse.Namespace) -> None:
    engine = await storage_engine.open_engine(url, pool_size=4)
    storage_engine.bind(engine)
    uow = PiccoloUnitOfWorkFactory(engine)
    clock = FixedClock(NOW)
    raw = await asyncpg.connect(url)
    rng = random.Random(11)
    picks = [(rng.randrange(args.users), rng.randrange(52)) for _ in range(args.samples)]
    weeks = [week_of((YEAR_START + timedelta(weeks=w)).date()) for _, w in picks]

    def view(u: int, w: int) -> Callable[[], Awaitable[object]]:
        week = weeks[w]
        return lambda: week_view(uow, tenant=tenant_of(u % args.tenants), user_id=user_id(u), week=week)

    def bare(u: int, w: int) -> Callable[[], Awaitable[object]]:
        monday = datetime.combine(weeks[w].monday, datetime.min.time(), tzinfo=UTC)
        return lambda: raw.fetch(
            "SELECT started_at, length_s, work_item FROM worklog "
            "WHERE tenant_id = $1 AND user_id = $2 AND started_at >= $3 AND started_at < $4",
            tenant_id(u % args.tenants), user_id(u), monday, monday + timedelta(days=7))

    views, bares = await paired([view(u, i) for i, (u, _) in enumerate(picks)],
                                [bare(u, i) for i, (u, _) in enumerate(picks)])
    movers = [user_of(rng.randrange(args.users), args.tenants) for _ in range(args.samples // 2)]

    def start(user: User) -> Callable[[], Awaitable[object]]:
        return lambda: start_tracking(uow, clock, tenant=tenant_of(int(user.tenant_id[1:])), user=user,
                                      work_item="1042", comment=None)

    def stop(user: User) -> Callable[[], Awaitable[object]]:
        async def go() -> None:
            clock.advance(minutes=30)
            await stop_tracking(uow, clock, tenant=tenant_of(int(user.tenant_id[1:])), user=user)
        return go

    async def raw_start(user: User) -> None:
        async with raw.transaction():
            await raw.execute("SELECT id FROM tenant_user WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
                              user.tenant_id, user.id)
            await raw.execute(
                "INSERT INTO tracking_timer (id, tenant_id, user_id, started_at, work_item, "
                "next_activity_check_at, updated_at) VALUES ($1, $2, $3, $4, '1042', $5, $4)",
                uuid.uuid4().hex, user.tenant_id, user.id, clock.now(), clock.now() + timedelta(hours=1))

    async def raw_stop(user: User) -> None:
        async with raw.transaction():
            await raw.execute("SELECT id FROM tenant_user WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
                              user.tenant_id, user.id)
            await raw.fetchrow("DELETE FROM tracking_timer WHERE tenant_id = $1 AND user_id = $2 "
                               "RETURNING started_at", user.tenant_id, user.id)
            await raw.execute(
                "INSERT INTO worklog (id, tenant_id, user_id, started_at, length_s, billable_length_s, "
                "work_item, added_by, flags, owner_edited, created_at, updated_at) "
                "VALUES ($1, $2, $3, $4, 1800, 0, '1042', $3, 'tracked', false, $4, $4)",
                uuid.uuid4().hex, user.tenant_id, user.id, clock.now())

    # Each user's use-case start and stop next to its raw ones, in alternating order (as the
    # week reads above): run as two blocks, a change in the machine's load between them (other
    # processes, another fsync) went wholly into the ratio.
    starts: list[float] = []
    stops: list[float] = []
    raw_starts: list[float] = []
    raw_stops: list[float] = []
    for index, user in enumerate(movers):
        use_case = [(starts, start(user)), (stops, stop(user))]
        by_hand: list[tuple[list[float], Callable[[], Awaitable[object]]]] = [
            (raw_starts, lambda user=user: raw_start(user)), (raw_stops, lambda user=user: raw_stop(user))]
        for samples, call in use_case + by_hand if index % 2 == 0 else by_hand + use_case:
            samples.append(await _once(call))
    await raw.close()
    await storage_engine.close(engine)

    print(f"python   {platform.python_implementation()} {platform.python_version()}")
    print(f"machine  {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    server = await _server_version(url)
    # A reused database holds what its own seeding made, whatever --worklogs says now.
    worklogs = await _count(url, "worklog") if args.reuse else args.worklogs
    print(f"data     {worklogs:,} worklogs, {args.tenants:,} tenants, {args.users:,} users; {server}")
    _, week_p95, _ = row("timesheet week (use case)", views)
    _, bare_p95, _ = row("timesheet week (raw SELECT)", bares)
    _, start_p95, _ = row("start (use case)", starts)
    _, raw_start_p95, _ = row("start (raw transaction)", raw_starts)
    _, stop_p95, _ = row("stop (use case)", stops)
    _, raw_stop_p95, _ = row("stop (raw transaction)", raw_stops)
    print(f"ratio    timesheet week {week_p95 / bare_p95:.1f}×   start {start_p95 / raw_start_p95:.1f}×   "
          f"stop {stop_p95 / raw_stop_p95:.1f}×   (p95, use case / raw)")


async def _once(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def _count(url: str, table: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await connection.close()


async def _server_version(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        return str(await connection.fetchval("SELECT version()")).split(" on ")[0]
    finally:
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worklogs", type=int, default=10_000_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=1_000)
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
            await seed(url, args.worklogs, args.tenants, args.users)
            print(f"seeded   {name} in {time.perf_counter() - started:,.0f} s")
        await measure(url, args)
    finally:
        if not (args.keep or args.reuse):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())

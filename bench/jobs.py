"""Renewal throughput of the background jobs: N subscriptions due today, renewed by real
Celery workers on Redis, with 1 and then 2 worker processes.

    python bench/jobs.py [--tenants 100000] [--batch 500]

Creates a fresh PostgreSQL database for each run (dropped afterwards), seeds it with
COPY (``asyncpg.copy_records_to_table``): N tenants, each on its own Team monthly
subscription whose period ends today. Then starts ``stint worker --concurrency K`` (K
worker processes, each with its own event loop and database pool), sends one renewals
sweep, and times until every subscription has its renewal invoice. Prints both times
and the speed-up; checks that each subscription got exactly one renewal invoice.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.periods import Interval, first_period  # noqa: E402

ADMIN_URL = os.environ.get("STINT_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("STINT_BENCH_REDIS", "redis://127.0.0.1:6379/14")
STINT = str(ROOT / ".venv" / "bin" / "stint")

__all__ = ["create_database", "drop_database", "seed_due_subscriptions"]


async def seed_due_subscriptions(url: str, n: int, today: date, *, prefix: str = "b") -> list[str]:
    """N tenants on Team monthly, 1 seat, whose period ends ``today``; their subscription ids."""
    now = datetime.now(UTC)
    start = today - timedelta(days=31)
    while first_period(start, Interval.MONTHLY).end != today:
        start += timedelta(days=1)
    period = first_period(start, Interval.MONTHLY)
    enterprises, subscriptions, tenants = [], [], []
    sub_ids = []
    for i in range(n):
        key = f"{prefix}{i:09d}"
        ent, sub, ten = f"e{key}", f"s{key}", f"t{key}"
        sub_ids.append(sub)
        enterprises.append((ent, f"Bench {i}", now))
        subscriptions.append((
            sub, ent, "tenant", "team", "monthly", 1, "active", period.start, period.end,
            period.anchor_day, 1500, "USD", 0, now, now,
        ))
        tenants.append((ten, f"{prefix}-bench-{i}", f"Bench {i}", "cloud", ent, sub, "UTC", "team",
                        "automatic", now))
    connection = await asyncpg.connect(url)
    try:
        await connection.copy_records_to_table("enterprise", records=enterprises,
                                               columns=["id", "name", "created_at"])
        await connection.copy_records_to_table("subscription", records=subscriptions, columns=[
            "id", "enterprise_id", "scope", "plan_id", "interval", "seats", "status", "period_start",
            "period_end", "anchor_day", "seat_price", "currency", "version", "created_at", "updated_at",
        ])
        await connection.copy_records_to_table("tenant", records=tenants, columns=[
            "id", "slug", "name", "deployment", "enterprise_id", "subscription_id", "time_zone",
            "default_role", "licensing_mode", "created_at",
        ])
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return sub_ids


async def create_database() -> tuple[str, str]:
    """A fresh, migrated database: (name, url)."""
    from plugins.storage import engine as storage_engine
    from plugins.storage.catalogue_repo import CatalogueRepo
    from plugins.storage.migrations import upgrade

    name = f"stint_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    engine = await storage_engine.open_engine(url, pool_size=2)
    storage_engine.bind(engine)
    try:
        await upgrade(engine)
        await CatalogueRepo().seed(datetime.now(UTC))
    finally:
        await storage_engine.close(engine)
    return name, url


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _renewed(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM invoice WHERE kind = 'renewal'"))
    finally:
        await connection.close()


async def _duplicates(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval(
            "SELECT count(*) FROM (SELECT subscription_id FROM invoice WHERE kind = 'renewal' "
            "GROUP BY subscription_id HAVING count(*) > 1) d"
        ))
    finally:
        await connection.close()


def _env(url: str, prefix: str, args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "STINT_DATABASE_URL": url,
        "STINT_REDIS_URL": REDIS,
        "STINT_REDIS_PREFIX": prefix,
        "STINT_SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "STINT_DATA_DIR": str(data_dir),
        "STINT_JOBS_BATCH_SIZE": str(args.batch),
    }


def _send_sweep(env: dict[str, str]) -> None:
    from plugins.jobs.celery_app import SWEEP, create_celery
    from plugins.settings import load_settings

    create_celery(load_settings(env, dotenv=Path("/nonexistent"))).send_task(SWEEP)


async def one_run(workers: int, args: argparse.Namespace) -> float:
    name, url = await create_database()
    prefix = f"bench{uuid.uuid4().hex[:8]}:"
    data_dir = Path("/tmp") / prefix.rstrip(":")
    process = None
    try:
        t0 = time.perf_counter()
        await seed_due_subscriptions(url, args.tenants, datetime.now(UTC).date())
        print(f"  seeded {args.tenants:,} due subscriptions in {time.perf_counter() - t0:.1f} s", flush=True)
        env = _env(url, prefix, args, data_dir)
        process = subprocess.Popen(
            [STINT, "worker", f"--concurrency={workers}", "--loglevel=WARNING"],
            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        await asyncio.sleep(3)  # the worker processes start and open their pools
        started = time.perf_counter()
        _send_sweep(env)
        while (done := await _renewed(url)) < args.tenants:
            if process.poll() is not None:
                raise RuntimeError("the worker exited")
            if time.perf_counter() - started > args.timeout:
                raise RuntimeError(f"only {done} of {args.tenants} renewed in {args.timeout} s")
            await asyncio.sleep(0.25)
        seconds = time.perf_counter() - started
        assert await _duplicates(url) == 0, "a subscription got two renewal invoices"
        return seconds
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        await drop_database(name)
        import redis

        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500, help="subscriptions per batch task")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    print(f"renewing {args.tenants:,} subscriptions (batch {args.batch}, one transaction each) with real "
          f"Celery workers on Redis, PostgreSQL; {os.cpu_count()} CPUs")
    times = {}
    for workers in (1, 2):
        print(f"{workers} worker process{'es' if workers > 1 else ''}:", flush=True)
        times[workers] = asyncio.run(one_run(workers, args))
        rate = args.tenants / times[workers]
        print(f"  {times[workers]:.1f} s  ({rate:,.0f} renewals/s)", flush=True)
    print(f"speed-up with 2 workers: {times[1] / times[2]:.2f}x")


if __name__ == "__main__":
    main()

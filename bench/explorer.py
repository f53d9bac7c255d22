"""Benchmark: the Times Explorer's hot paths over HTTP at 10 million worklogs (placeholder)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench.seeding import seed
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade

ADMIN_URL = os.environ.get("STINT_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
ACTIVITY_TYPES = 6


async def create(url: str, name: str, args: argparse.Namespace) -> None:
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    engine = await storage_engine.open_engine(url, pool_size=2)
    storage_engine.bind(engine)
    await upgrade(engine)
    await storage_engine.close(engine)
    started = time.perf_counter()
    # The first user of every tenant is a Product user (the explorer's reader).
    await seed(url, args.worklogs, args.tenants, args.users, activity_types=ACTIVITY_TYPES,
               roles=dict.fromkeys(range(args.tenants), "product"))
    print(f"seeded   {name} in {time.perf_counter() - started:,.0f} s", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worklogs", type=int, default=10_000_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--database", default="stint_bench_explorer")
    args = parser.parse_args()
    url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{args.database}"
    await create(url, args.database, args)


if __name__ == "__main__":
    asyncio.run(main())

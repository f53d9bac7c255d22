"""Benchmark: big worklog imports, against a bare COPY of the same rows and while another
tenant writes.

Run: ``python bench/imports.py [--rows 100000] [--engine postgres|sqlite|both] [--repeat 3]``.

- **PostgreSQL**: a fresh database (``stint_bench_<random>``, dropped at the end unless
  ``--keep``), migrated, one tenant signed up. Each round times the import use case
  (``import_worklogs``: the rows of a CSV file of ``--rows`` lines checked, then written
  with COPY, with their work-item effects, in one transaction) and a bare asyncpg
  ``copy_records_to_table`` of those same worklog rows into the same table on one
  connection, in alternating order, with both tables emptied before each. It prints the
  medians and their ratio (target: the import ≤ 3× the bare COPY); reading the CSV text
  into rows (``read_csv``) is timed apart.
- **SQLite**: a fresh database file, two tenants. While tenant A imports ``--rows`` rows,
  tenant B adds a worklog every ``--every`` ms (the use case behind ``POST /worklogs``,
  in the same process and event loop, as in ``stint serve``); it prints B's latencies
  before and during the import (target: every one of B's writes during the import under
  1 s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from core.clock import FixedClock
from core.ids import new_id
from core.services.signup import signup
from core.services.worklog_import import import_worklogs
from core.services.worklogs import NewWorklog, add_worklog
from core.tracking import read_csv
from core.work_items import StateCategory, WorkItem
from plugins.identity.passwords import Argon2Hasher
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.uow import PiccoloUnitOfWorkFactory
from server.threads import switch_threads_promptly

ADMIN_URL = os.environ.get("STINT_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FIRST = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
HEADER = "User,Timestamp,Duration (hours),Billable duration,Activity type,Comment,Work item\r\n"
COLUMNS = ["id", "tenant_id", "user_id", "started_at", "length_s", "billable_length_s", "work_item",
           "comment", "activity_type", "added_by", "flags", "owner_edited", "stop_reason", "created_at",
           "updated_at", "activity_type_id"]


def csv_text(rows: int, email: str) -> str:
    """A year of quarter-hours, 200 work items, a short comment each: what a tracker exports."""
    return HEADER + "".join(
        f"{email},{(FIRST + timedelta(minutes=15 * n)).isoformat()},0.25,{'0.25' if n % 3 else ''},"
        f"Development,row {n},{1000 + n % 200}\r\n"
        for n in range(rows)
    )


async def sign_up(uow: PiccoloUnitOfWorkFactory, clock: FixedClock, slug: str) -> Any:
    made = await signup(uow, Argon2Hasher(fast=True), clock, slug=slug, name=slug.title(), deployment="cloud",
                        admin_email=f"admin@{slug}.test", admin_password="correct horse battery",
                        admin_name="Admin", trial_days=28)
    # Worklogs name work items of the tenant's mirror: the 200 of the CSV and B's item 7.
    async with uow(write=True) as work:
        await work.tenant(made.tenant.id).work_items().upsert([
            WorkItem(id=n, title=f"Work item {n}", type="Task", state="New",
                     state_category=StateCategory.PROPOSED, changed_at=clock.now())
            for n in [7, *range(1000, 1200)]
        ])
        await work.commit()
    return made


def machine() -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"python   {platform.python_implementation()} {platform.python_version()}")
    print(f"machine  {platform.platform()}, {os.cpu_count()} CPUs, load average {load}")


async def postgres(args: argparse.Namespace) -> None:
    name = f"stint_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(ADMIN_URL)
    url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        engine = await storage_engine.open_engine(url, pool_size=4)
        storage_engine.bind(engine)
        await upgrade(engine)
        uow = PiccoloUnitOfWorkFactory(engine)
        clock = FixedClock(NOW)
        made = await sign_up(uow, clock, "acme")
        raw = await asyncpg.connect(url)
        text = csv_text(args.rows, "admin@acme.test")
        reads: list[float] = []
        imports: list[float] = []
        copies: list[float] = []
        rows = read_csv(text)

        async def use_case() -> list[Any]:
            return await import_worklogs(uow, clock, tenant=made.tenant, actor=made.admin, rows=rows,
                                         may_import_for_others=True, time_zone="UTC")

        # The worklog rows the import stores (a warm-up run), with new ids for the bare COPY.
        records = [(new_id(), made.tenant.id, w.user_id, w.started_at, w.length_s, w.billable_length_s,
                    w.work_item, w.comment, w.activity_type, w.added_by,
                    ",".join(sorted(f.value for f in w.flags)), False, None, NOW, NOW, w.activity_type_id)
                   for w in await use_case()]

        async def bare_copy() -> None:
            async with raw.transaction():
                await raw.copy_records_to_table("worklog", records=records, columns=COLUMNS)

        for round_ in range(args.repeat):
            started = time.perf_counter()
            rows = read_csv(text)
            reads.append(time.perf_counter() - started)
            order = [("import", use_case), ("copy", bare_copy)]
            for label, call in order if round_ % 2 == 0 else order[::-1]:
                await raw.execute("TRUNCATE worklog, work_item_outbox")
                await raw.execute("CHECKPOINT")
                started = time.perf_counter()
                await call()
                (imports if label == "import" else copies).append(time.perf_counter() - started)
        await raw.close()
        await storage_engine.close(engine)
    finally:
        if not args.keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    machine()
    kept = f"; kept as {name}" if args.keep else ""
    print(f"data     {args.rows:,} rows, {args.repeat} rounds (medians){kept}")
    print(f"read CSV (text → rows)     {statistics.median(reads):6.2f} s")
    print(f"import (use case)          {statistics.median(imports):6.2f} s   {imports_text(imports)}")
    print(f"bare COPY of the same rows {statistics.median(copies):6.2f} s   {imports_text(copies)}")
    ratio = statistics.median(imports) / statistics.median(copies)
    with_read = (statistics.median(reads) + statistics.median(imports)) / statistics.median(copies)
    print(f"ratio    import / COPY {ratio:.1f}×   (read CSV + import) / COPY {with_read:.1f}×")


def imports_text(samples: list[float]) -> str:
    return "[" + ", ".join(f"{s:.2f}" for s in samples) + "]"


class TimedWrites:
    """The real unit-of-work factory, noting how long each write unit of work stays open:
    on SQLite, how long it holds the database's one write lock."""

    def __init__(self, uow: PiccoloUnitOfWorkFactory) -> None:
        self._uow = uow
        self.held: list[tuple[float, float]] = []

    def __call__(self, *, write: bool = False, staged: Any = None) -> Any:
        work = self._uow(write=write, staged=staged)
        return _Timed(work, self.held) if write else work


class _Timed:
    """Wall time and the process's CPU time (all its threads: the import's SQLite work runs
    in its connection's thread) from ``BEGIN IMMEDIATE`` to the connection's close. On a
    loaded machine the wall time mostly says how long the process waited for a core; the
    CPU time is the work done under the lock, and varies far less."""

    def __init__(self, work: Any, held: list[tuple[float, float]]) -> None:
        self._work, self._held = work, held

    async def __aenter__(self) -> Any:
        entered = await self._work.__aenter__()
        self._started, self._cpu = time.perf_counter(), time.process_time()
        return entered

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self._work.__aexit__(*exc)
        finally:
            self._held.append((time.perf_counter() - self._started, time.process_time() - self._cpu))


async def _page_size(engine: Any) -> int:
    rows = await engine.run_ddl("PRAGMA page_size")
    return int(rows[0]["page_size"])


async def sqlite(args: argparse.Namespace) -> None:
    folder = tempfile.mkdtemp(prefix="stint-bench-")
    try:
        await _sqlite(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _sqlite(args: argparse.Namespace, folder: str) -> None:
    # As in a ``stint serve`` process, where B's writes and A's import would run.
    switch_threads_promptly()
    engine = await storage_engine.open_engine(f"sqlite:///{folder}/bench.db")
    storage_engine.bind(engine)
    await upgrade(engine)
    uow = PiccoloUnitOfWorkFactory(engine)
    timed = TimedWrites(uow)
    clock = FixedClock(NOW)
    importer = await sign_up(uow, clock, "acme")
    other = await sign_up(uow, clock, "other")
    rows = read_csv(csv_text(args.rows, "admin@acme.test"))
    count = 0

    async def one_write() -> float:
        nonlocal count
        count += 1
        started = time.perf_counter()
        await add_worklog(uow, clock, tenant=other.tenant, actor=other.admin, owner_id=other.admin.id,
                          new=NewWorklog(started_at=FIRST + timedelta(minutes=count), length_s=60,
                                         work_item="7"),
                          may_add_for_others=False)
        return time.perf_counter() - started

    quiet = [await one_write() for _ in range(20)]
    during: list[float] = []
    done = asyncio.Event()

    async def writer() -> None:
        while not done.is_set():
            during.append(await one_write())
            await asyncio.sleep(args.every / 1000)

    async def importing() -> float:
        started = time.perf_counter()
        try:
            await import_worklogs(timed, clock, tenant=importer.tenant, actor=importer.admin, rows=rows,
                                  may_import_for_others=True, time_zone="UTC")
        finally:
            done.set()
        return time.perf_counter() - started

    took, _ = await asyncio.gather(importing(), writer())
    async with uow() as work:
        stored = await work.tenant(importer.tenant.id).tracking().count_worklogs()
    page_size = await _page_size(engine)
    await storage_engine.close(engine)
    held, cpu = max(timed.held)
    machine()
    print(f"data     {args.rows:,} rows imported by tenant A ({stored:,} stored) in {took:.2f} s, "
          f"holding the write lock {held:.2f} s (process CPU meanwhile {cpu:.2f} s); "
          f"tenant B adds a worklog every {args.every} ms")
    # Every worklog index but the id's leads with the tenant id: A's entries go at the end of
    # each (SQLite's cheapest insert) only if A's id sorts after B's, which it does in half
    # the runs; with many tenants an import mostly lands in the middle.
    place = "end" if importer.tenant.id > other.tenant.id else "middle"
    print(f"A's index entries go at the {place} of the tenant-keyed indexes (tenant ids in random order); "
          f"page size {page_size} bytes")
    print(f"B alone          {len(quiet):4} writes  median {statistics.median(quiet) * 1000:7.1f} ms   "
          f"max {max(quiet) * 1000:7.1f} ms")
    print(f"B during import  {len(during):4} writes  median {statistics.median(during) * 1000:7.1f} ms   "
          f"max {max(during) * 1000:7.1f} ms   (target: max < 1000 ms)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--engine", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=3, help="PostgreSQL rounds (medians are printed)")
    parser.add_argument("--every", type=int, default=50, help="ms between tenant B's writes (SQLite)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    if args.engine in ("postgres", "both"):
        await postgres(args)
    if args.engine in ("sqlite", "both"):
        await sqlite(args)


if __name__ == "__main__":
    asyncio.run(main())

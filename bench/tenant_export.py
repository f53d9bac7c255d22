"""Benchmark: exporting a tenant with many worklogs streams in flat memory, and re-imports.

Run: ``.venv/bin/python bench/tenant_export.py [--worklogs 1000000]``.

It creates a fresh, migrated PostgreSQL database, seeds one tenant (with ``bench/jobs.py``'s
seeder) and ``--worklogs`` worklogs by COPY, runs ``stint tenant export`` as a child
process and reports its wall time and peak RSS (the child's ``VmHWM``), then imports
the archive into a second fresh database with ``stint tenant import`` and checks that the
worklog count and the sum of their lengths came back. Both databases are dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STINT = str(Path(sys.executable).parent / "stint")
SECRET = "bench-export-secret-" + "k" * 32


def _jobs_bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_jobs", ROOT / "bench" / "jobs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def seed_worklogs(url: str, tenant_id: str, n: int) -> None:
    connection = await asyncpg.connect(url)
    try:
        start = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
        chunk = 100_000
        for offset in range(0, n, chunk):
            rows = [
                (f"w{i:031d}", tenant_id, f"u{i % 50:031d}", start + timedelta(minutes=i), 900 + i % 3600,
                 900, f"item {i % 997}", f"worklog {i}, with a comment", None, "user", "", False, None,
                 start, start)
                for i in range(offset, min(n, offset + chunk))
            ]
            await connection.copy_records_to_table("worklog", records=rows, columns=[
                "id", "tenant_id", "user_id", "started_at", "length_s", "billable_length_s", "work_item",
                "comment", "activity_type", "added_by", "flags", "owner_edited", "stop_reason",
                "created_at", "updated_at",
            ])
    finally:
        await connection.close()


async def totals(url: str, tenant_id: str) -> tuple[int, int]:
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT count(*) AS n, coalesce(sum(length_s), 0) AS s FROM worklog WHERE tenant_id = $1",
            tenant_id,
        )
        assert row is not None
        return int(row["n"]), int(row["s"])
    finally:
        await connection.close()


def _peak_kib(pid: int) -> int:
    """The process's peak resident set since its exec (``VmHWM``), 0 once it is gone.

    Not ``ru_maxrss``: Linux carries the forking parent's high-water mark across exec into
    the child's, so a child of this (large, after seeding) process would report ours."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, output) of ``stint …`` as a child process."""
    started = time.monotonic()
    peak = 0
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen([STINT, *args], env=env, stdout=out, stderr=err, text=True)
        while child.poll() is None:
            peak = max(peak, _peak_kib(child.pid))
            time.sleep(0.05)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise SystemExit(f"stint {' '.join(args)} failed: {err.read()}")
        return seconds, peak / 1024, out.read().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--worklogs", type=int, default=1_000_000)
    args = parser.parse_args()
    jobs = _jobs_bench()
    source_name, source = asyncio.run(jobs.create_database())
    target_name, target = asyncio.run(jobs.create_database())
    try:
        sub_ids = asyncio.run(jobs.seed_due_subscriptions(source, 1, date(2026, 3, 1), prefix="x"))
        tenant_id = "t" + sub_ids[0][1:]
        started = time.monotonic()
        asyncio.run(seed_worklogs(source, tenant_id, args.worklogs))
        seeded = time.monotonic() - started
        with tempfile.TemporaryDirectory() as tmp:
            env = {k: v for k, v in os.environ.items() if not k.startswith("STINT_")}
            env.update(STINT_SECRET_KEY=SECRET, STINT_DATA_DIR=tmp)
            archive = Path(tmp) / "export.zip"
            export_s, export_mb, said = run_measured(
                ["tenant", "export", "x-bench-0", "--out", str(archive)],
                {**env, "STINT_DATABASE_URL": source},
            )
            size_mb = archive.stat().st_size / 1e6
            import_s, import_mb, _ = run_measured(
                ["tenant", "import", str(archive)], {**env, "STINT_DATABASE_URL": target})
        before, after = asyncio.run(totals(source, tenant_id)), asyncio.run(totals(target, tenant_id))
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f}")
        print(f"seeded {args.worklogs} worklogs in {seeded:.1f} s")
        print(f"export: {export_s:.1f} s, peak RSS {export_mb:.0f} MB, archive {size_mb:.1f} MB  ({said})")
        print(f"import: {import_s:.1f} s, peak RSS {import_mb:.0f} MB")
        print(f"worklogs (count, sum of length_s): source {before}, re-imported {after}: "
              + ("same" if before == after else "DIFFERENT"))
        if before != after:
            raise SystemExit(1)
    finally:
        asyncio.run(jobs.drop_database(source_name))
        asyncio.run(jobs.drop_database(target_name))


if __name__ == "__main__":
    main()

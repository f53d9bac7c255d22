"""``stint worker``, ``stint beat`` and ``stint jobs run|status``: the background jobs, on
Celery (with Redis) or once, in-process."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from plugins.settings import Settings, load_settings

from .running import run_with_stint

if TYPE_CHECKING:
    from celery import Celery

    from plugins.bootstrap import Stint


def _celery(args: argparse.Namespace, settings: Settings) -> Celery | None:
    if not settings.redis_url:
        print(
            f"stint {args.command}: needs Redis — set STINT_REDIS_URL=redis://HOST:PORT/DB. Without Redis, "
            "`stint serve` runs the background jobs itself and `stint jobs run` runs them once.",
            file=sys.stderr,
        )
        return None
    from plugins.jobs.celery_app import create_celery

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return create_celery(settings)


def cmd_worker(args: argparse.Namespace) -> int:
    import os

    settings = load_settings()
    app = _celery(args, settings)
    if app is None:
        return 2
    processes = args.concurrency or settings.jobs_concurrency
    app.worker_main([
        "worker", f"--concurrency={processes}", f"--loglevel={args.loglevel}", "--pool=prefork",
        # Unique per process, so several workers on one machine are told apart.
        f"--hostname=stint-{os.getpid()}@%h",
    ])
    return 0


def cmd_beat(args: argparse.Namespace) -> int:
    settings = load_settings()
    app = _celery(args, settings)
    if app is None or not settings.redis_url:  # the URL is always there when _celery built an app
        return 2
    import redis

    from plugins.jobs.beat_lock import BeatAlreadyRunning, BeatLease

    client = redis.Redis.from_url(settings.redis_url)
    lease = BeatLease(client, settings.redis_prefix)
    try:
        lease.acquire()
    except BeatAlreadyRunning as exc:
        print(f"stint beat: {exc}", file=sys.stderr)
        return 3
    try:
        app.start(["beat", f"--loglevel={args.loglevel}"])
    finally:
        lease.release()
        client.close()
    return 0


def cmd_jobs_run(args: argparse.Namespace) -> int:
    from plugins.jobs.registry import JOBS, run_job

    names = [args.name] if args.name else list(JOBS)
    unknown = [n for n in names if n not in JOBS]
    if unknown:
        print(f"stint jobs run: no job {unknown[0]!r}; jobs: {', '.join(JOBS)}", file=sys.stderr)
        return 2

    async def work(stint: Stint) -> int:
        failed = 0
        for name in names:
            try:
                counts = await run_job(stint, name)
            except Exception as exc:
                failed += 1
                print(f"{name}: FAILED {type(exc).__name__}: {exc}")
            else:
                print(f"{name}: " + (", ".join(f"{k}={v}" for k, v in counts.items()) or "nothing to do"))
        return 1 if failed else 0

    return run_with_stint(work)


def cmd_jobs_status(args: argparse.Namespace) -> int:
    import json

    from plugins.jobs.status import jobs_status

    async def work(stint: Stint) -> int:
        print(json.dumps(await jobs_status(stint), indent=2))
        return 0

    return run_with_stint(work)

"""``stint serve``, ``stint db upgrade`` and ``stint demo``: an installation's schema, its
demo data, and the web app served."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from plugins.settings import Settings, load_settings

from .running import run_with_stint

if TYPE_CHECKING:
    from plugins.bootstrap import Stint


def _prepare_schema(settings: Settings) -> str | None:
    """Before serving: the schema must be current. The embedded SQLite of ``make run`` is
    brought up to date here (one process, one file); any other database is the release
    step's (``stint db upgrade``), and a pending migration stops ``serve`` with the reason."""
    from datetime import UTC, datetime

    from plugins.storage import engine as storage_engine
    from plugins.storage.catalogue_repo import CatalogueRepo
    from plugins.storage.migrations import pending_migrations, upgrade

    async def check() -> str | None:
        engine = await storage_engine.open_engine(settings.database_url, pool_size=1)
        storage_engine.bind(engine)
        try:
            pending = await pending_migrations(engine)
            if pending and settings.is_postgres:
                return (f"stint serve: the database has {len(pending)} migration(s) to apply "
                        f"({', '.join(pending)}). Run `stint db upgrade` first (the Procfile's "
                        "release step; the compose file's `migrate` service).")
            if pending:
                applied = await upgrade(engine)
                print(f"embedded SQLite: applied migrations {', '.join(applied)}", flush=True)
            # The default plans, when missing (an idempotent insert; `db upgrade` does it too).
            await CatalogueRepo().seed(datetime.now(UTC))
            if pending:
                # And the first-party tracker, as `db upgrade` registers it.
                from core.clock import SystemClock
                from core.services.oauth import ensure_tracker_client
                from plugins.storage.uow import PiccoloUnitOfWorkFactory

                await ensure_tracker_client(PiccoloUnitOfWorkFactory(engine), SystemClock())
            return None
        finally:
            await storage_engine.close(engine)

    return asyncio.run(check())


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from ..app import create_app

    settings = load_settings()
    if args.workers > 1 and not settings.redis_url:
        print("stint serve --workers: several processes need STINT_REDIS_URL — without Redis each "
              "would keep its own rate limits and access-decision cache (a change made through one "
              "would not reach the others) and run the background jobs itself.", file=sys.stderr)
        return 2
    refused = _prepare_schema(settings)
    if refused:
        print(refused, file=sys.stderr)
        return 2
    print(f"Stint on http://{args.host}:{args.port}  (database: {settings.database_url}, "
          f"{args.workers} process{'es' if args.workers > 1 else ''})", flush=True)
    # Stint's own request log (web/logs.py) has a line per request; uvicorn's access log
    # (filtered out at "warning" anyway) would only format arguments to be dropped. Forwarded
    # headers are Stint's to judge (STINT_TRUSTED_PROXIES, web/proxies.py), not uvicorn's.
    options: dict[str, object] = dict(
        host=args.host, port=args.port, log_level="warning", access_log=False, proxy_headers=False,
        timeout_graceful_shutdown=args.graceful_timeout,
    )
    if args.workers > 1:
        # Each process counts its own metrics; prometheus_client's multiprocess mode adds them
        # up at a scrape (plugins/metrics.py). A fresh directory per start: no stale counts.
        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            import shutil

            directory = settings.data_dir / "prometheus"
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory.resolve())
        uvicorn.run("server.app:serve_app", factory=True, workers=args.workers, **options)  # type: ignore[arg-type]
    else:
        uvicorn.run(create_app(settings, run_jobs=True, serving=True), **options)  # type: ignore[arg-type]
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from plugins.storage.migrations import upgrade

    async def work(stint: Stint) -> int:
        from datetime import UTC, datetime

        from core.services.oauth import ensure_tracker_client
        from plugins.storage.catalogue_repo import CatalogueRepo

        applied = await upgrade(stint.engine)
        seeded = await CatalogueRepo().seed(datetime.now(UTC))
        if seeded:
            print(f"plans catalogue: {seeded} default plans added")
        if await ensure_tracker_client(stint.uow, stint.clock):
            print("OAuth: registered the first-party public client stint-tracker (device grant)")
        if applied:
            print("applied migrations: " + ", ".join(applied))
        else:
            print("schema is up to date; nothing changed")
        return 0

    return run_with_stint(work, migrate=False)


def cmd_demo(args: argparse.Namespace) -> int:
    from plugins.demo import load_demo

    async def work(stint: Stint) -> int:
        logins = await load_demo(stint)
        print("Demo logins (POST /api/v1/auth/token with tenant, email, password):")
        for login in logins:
            print(f"  {login.realm:<8} tenant={login.tenant:<12} {login.email:<20} "
                  f"password={login.password}   # {login.what}")
        return 0

    return run_with_stint(work)

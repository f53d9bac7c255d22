"""The ``stint`` command (API.md): serve, db upgrade, demo, operator create, …"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from plugins.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from datetime import date, datetime

    from celery import Celery

    from core.services.trusted_time import ClockReport
    from plugins.bootstrap import Stint
    from plugins.identity.keys import SigningKey

__all__ = ["main"]


def _run(work: Callable[[Stint], Awaitable[int]], *, migrate: bool = True) -> int:
    """Start the adapters (schema brought up to date), run ``work``, and always close them."""
    from plugins import bootstrap

    async def go() -> int:
        stint = await bootstrap.start(load_settings(), migrate=migrate)
        try:
            return await work(stint)
        finally:
            await bootstrap.stop(stint)

    return asyncio.run(go())


def _prepare_schema(settings: Settings) -> str | None:
    """Before serving: the schema must be current. The embedded SQLite of ``make run`` is
    brought up to date here (one process, one file); any other database is the release
    step's (``stint db upgrade``), and a pending migration stops ``serve`` with the reason."""
    from datetime import UTC, datetime

    from plugins.storage import engine as storage_engine
    from plugins.storage.billing_repo import CatalogueRepo
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

    from .app import create_app

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
        from plugins.storage.billing_repo import CatalogueRepo

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

    return _run(work, migrate=False)


def cmd_demo(args: argparse.Namespace) -> int:
    from plugins.demo import load_demo

    async def work(stint: Stint) -> int:
        logins = await load_demo(stint)
        print("Demo logins (POST /api/v1/auth/token with tenant, email, password):")
        for login in logins:
            print(f"  {login.realm:<8} tenant={login.tenant:<12} {login.email:<20} "
                  f"password={login.password}   # {login.what}")
        return 0

    return _run(work)


def cmd_operator_create(args: argparse.Namespace) -> int:
    from core.services.identity import create_operator
    from core.services.second_factor import enrol_operator_now

    async def work(stint: Stint) -> int:
        operator = await create_operator(
            stint.uow, stint.hasher, stint.clock, email=args.email, password=args.password,
            name=args.name or "",
        )
        print(f"operator {operator.email} created")
        if args.no_second_factor:
            print("no second factor: the operator sets one up at the first sign-in"
                  + (" (required before anything else)" if stint.settings.operator_2fa_required else ""))
            return 0
        enrolment, recovery = await enrol_operator_now(stint.uow, stint.codes, stint.clock, operator=operator)
        print("second factor (TOTP): add this to the operator's authenticator app; shown only now")
        print(f"  secret: {enrolment.secret}")
        print(f"  uri:    {enrolment.uri}")
        print("recovery codes (each signs in once):")
        for code in recovery:
            print(f"  {code}")
        return 0

    return _run(work)


def cmd_operator_code(args: argparse.Namespace) -> int:
    from core.services.second_factor import current_operator_code

    async def work(stint: Stint) -> int:
        print(await current_operator_code(stint.uow, stint.codes, stint.clock, email=args.email))
        return 0

    return _run(work)


def _day(value: str) -> date:
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a YYYY-MM-DD date") from None


def cmd_activation_issue(args: argparse.Namespace) -> int:
    from plugins.activation import issue_command

    # No database: the issuing side needs only the signing key (or the dev key in the data dir).
    settings = load_settings()
    print(issue_command(
        args.tenant, args.server_id, args.plan, args.seats, args.expires, args.out,
        settings.activation_signing_key, settings.data_dir, period_start=args.period_start,
    ))
    return 0


def cmd_activation_verify(args: argparse.Namespace) -> int:
    from plugins.activation import verify_command

    settings = load_settings()
    ok, message = verify_command(
        args.file, args.server_id, settings.activation_public_keys,
        trust_dev_key=settings.activation_trust_dev_key, data_dir=settings.data_dir,
    )
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def cmd_activation_clock(args: argparse.Namespace) -> int:
    from core.services.trusted_time import clock_report

    async def work(stint: Stint) -> int:
        report = await clock_report(stint.uow, stint.clock, tolerance=stint.settings.clock_tolerance)
        print(_clock_text(report))
        return 1 if report.refused else 0

    return _run(work)


def _stamp(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _clock_text(report: ClockReport) -> str:
    minutes = int(report.tolerance.total_seconds() // 60)
    lines = [f"server clock: {_stamp(report.now)} (trusted unless more than {minutes} minutes behind)"]
    if not report.tenants:
        lines.append("no on-premises tenants: the clock is not checked")
    for one in report.tenants:
        verdict = "ok" if one.set_back is None else "REFUSED clock_set_back"
        lines.append(
            f"{one.tenant.slug}: {verdict}; latest trusted time {_stamp(one.trusted.latest)}, "
            f"newest activation file issued {_stamp(one.trusted.newest_issued_at)}"
        )
        if one.set_back is not None:
            lines.append(f"  {one.set_back.message}")
    return "\n".join(lines)


def _add_activation(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    activation = commands.add_parser("activation", help="offline activation files (on-premises)")
    activation_commands = activation.add_subparsers(dest="activation_command", required=True)
    issue = activation_commands.add_parser("issue", help="write a signed activation file")
    issue.add_argument("--tenant", required=True, help="the tenant's slug on the customer's server")
    issue.add_argument("--server-id", required=True, help="the server id the customer's admin sent")
    issue.add_argument("--plan", required=True)
    issue.add_argument("--seats", required=True, type=int)
    issue.add_argument("--expires", required=True, type=_day, help="first day NOT covered, YYYY-MM-DD")
    issue.add_argument("--period-start", type=_day, default=None, help="first day covered (default today)")
    issue.add_argument("--out", required=True)
    issue.set_defaults(func=cmd_activation_issue)
    verify = activation_commands.add_parser("verify", help="check a file offline and say what it grants")
    verify.add_argument("file")
    verify.add_argument("--server-id", default=None)
    verify.set_defaults(func=cmd_activation_verify)
    clock = activation_commands.add_parser(
        "clock", help="whether this server's clock is believed, per on-premises tenant, and why not"
    )
    clock.set_defaults(func=cmd_activation_clock)


def _key_ring(settings: Settings) -> tuple[SigningKey, ...]:
    from plugins.identity.keys import SigningKey

    return tuple(SigningKey(kid, secret) for kid, secret in settings.secret_keys)


def cmd_keys_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    print(f"secret keys from {settings.secret_keys_source} (the first signs; all are accepted):")
    for n, (kid, _) in enumerate(settings.secret_keys):
        print(f"  {kid:<24} {'current' if n == 0 else 'previous'}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from plugins.identity.keys import new_key, rotate_key_file

    settings = load_settings()
    ring = _key_ring(settings)
    if settings.secret_keys_file is None:
        # The environment is the deployment's to change, not this command's.
        fresh = new_key()
        print(
            f"stint keys rotate: the keys come from {settings.secret_keys_source}, which only your "
            "deployment can change. A new key, to list FIRST, keeping the current ones after it:\n"
            f"  STINT_SECRET_KEYS={fresh.kid}:{fresh.secret},"
            + ",".join(f"{key.kid}:…" for key in ring)
            + "\nTo rotate without signing anyone out on a rolling restart, first add it LAST on every "
            "process, then move it first.",
            file=sys.stderr,
        )
        return 2
    fresh = rotate_key_file(settings.secret_keys_file, ring)
    print(f"new current key {fresh.kid} in {settings.secret_keys_file}; still accepted: "
          + ", ".join(key.kid for key in ring))
    print("Processes that read the old file sign with the previous key until restarted (it stays "
          "accepted) and pick the new one up when they meet a token signed with it.")
    return 0


def cmd_keys_reseal(args: argparse.Namespace) -> int:
    async def work(stint: Stint) -> int:
        done = await stint.devops.reseal()
        print(f"DevOps tokens sealed again with key {stint.keys.current.kid}: {done.resealed} "
              f"(already with it: {done.current})")
        if done.unreadable:
            print("no key opens the DevOps token of these tenants (an administrator must enter it "
                  "again): " + ", ".join(done.unreadable), file=sys.stderr)
        return 0

    return _run(work)


def cmd_keys_remove(args: argparse.Namespace) -> int:
    from plugins.identity.keys import KeyRingError, check_removable, remove_from_key_file

    settings = load_settings()
    ring = _key_ring(settings)
    if settings.secret_keys_file is None:
        print(f"stint keys remove: the keys come from {settings.secret_keys_source}: remove {args.kid} there "
              "(run `stint keys reseal` first).", file=sys.stderr)
        return 2
    try:
        check_removable(ring, args.kid)
    except KeyRingError as exc:
        print(f"stint keys remove: {exc}", file=sys.stderr)
        return 2
    # What the key sealed must open without it before it goes.
    cmd_keys_reseal(args)
    kept = remove_from_key_file(settings.secret_keys_file, ring, args.kid)
    print(f"removed key {args.kid}; keys now: {', '.join(key.kid for key in kept)}. Restart Stint's "
          "processes: until then they may still accept tokens signed with it.")
    return 0


def _add_keys(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="the secret keys that sign tokens (rotation)")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_commands.add_parser("list", help="the keys' ids, current first (never the secrets)").set_defaults(
        func=cmd_keys_list
    )
    keys_commands.add_parser(
        "rotate", help="make a new current key; the previous ones stay accepted"
    ).set_defaults(func=cmd_keys_rotate)
    keys_commands.add_parser(
        "reseal", help="seal the stored DevOps tokens again with the current key"
    ).set_defaults(func=cmd_keys_reseal)
    remove = keys_commands.add_parser("remove", help="stop accepting a previous key (reseals first)")
    remove.add_argument("kid")
    remove.set_defaults(func=cmd_keys_remove)


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

    return _run(work)


def cmd_jobs_status(args: argparse.Namespace) -> int:
    import json

    from plugins.jobs.status import jobs_status

    async def work(stint: Stint) -> int:
        print(json.dumps(await jobs_status(stint), indent=2))
        return 0

    return _run(work)


def cmd_settings_docs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from plugins.settings_docs import ENV_EXAMPLE, SETTINGS_MD, env_example, settings_markdown

    root = Path(args.root)
    wanted = {root / SETTINGS_MD: settings_markdown(), root / ENV_EXAMPLE: env_example()}
    stale = [path for path, text in wanted.items()
             if not path.is_file() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path} is out of date with plugins/settings.py: run `stint settings docs`",
                  file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted[path], encoding="utf-8")
        print(f"wrote {path}")
    if not stale:
        print("docs/settings.md and .env.example are up to date")
    return 0


def cmd_tenant_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from plugins.storage.tenant_export import ExportError, export_tenant

    settings = load_settings()
    try:
        summary = asyncio.run(export_tenant(settings.database_url, args.slug, Path(args.out),
                                            settings.secret_keys))
    except ExportError as exc:
        print(f"stint tenant export: {exc}", file=sys.stderr)
        return 1
    rows = sum(summary.tables.values())
    print(f"{args.out}: tenant {summary.tenant}, {rows} rows from {len(summary.tables)} tables "
          f"(worklogs: {summary.tables.get('worklog', 0)}); signed with key {settings.secret_keys[0][0]}")
    return 0


def cmd_tenant_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from plugins.storage.tenant_export import ExportError, import_tenant

    settings = load_settings()
    try:
        summary = asyncio.run(import_tenant(settings.database_url, Path(args.file), settings.secret_keys))
    except ExportError as exc:
        print(f"stint tenant import: {exc}", file=sys.stderr)
        return 1
    print(f"imported tenant {summary.tenant}: {sum(summary.tables.values())} rows into "
          f"{len(summary.tables)} tables")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stint", description="Stint: licensing, subscriptions, time.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web app (API, pages, operator console)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1,
                       help="web processes on this port (more than one needs STINT_REDIS_URL)")
    serve.add_argument("--graceful-timeout", type=int, default=30, metavar="SECONDS",
                       help="on SIGTERM, how long in-flight requests get to finish (default 30)")
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="create or upgrade the schema").set_defaults(func=cmd_db_upgrade)

    commands.add_parser("demo", help="load the demo and print its logins").set_defaults(func=cmd_demo)

    operator = commands.add_parser("operator", help="operator (vendor staff) accounts")
    operator_commands = operator.add_subparsers(dest="operator_command", required=True)
    create = operator_commands.add_parser("create", help="create an operator account")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--name", default="")
    create.add_argument("--no-second-factor", action="store_true",
                        help="do not set up a second factor now (the operator does at the first sign-in)")
    create.set_defaults(func=cmd_operator_create)
    code = operator_commands.add_parser(
        "code", help="print an operator's current second-factor code (demos; needs the secret key)"
    )
    code.add_argument("--email", required=True)
    code.set_defaults(func=cmd_operator_code)

    worker = commands.add_parser("worker", help="Celery worker for the background jobs (needs Redis)")
    worker.add_argument("--concurrency", type=int, default=None,
                        help="worker processes (default: STINT_JOBS_CONCURRENCY, 2)")
    worker.add_argument("--loglevel", default="INFO")
    worker.set_defaults(func=cmd_worker)
    beat = commands.add_parser("beat", help="Celery beat: the jobs' schedule (run exactly one; needs Redis)")
    beat.add_argument("--loglevel", default="INFO")
    beat.set_defaults(func=cmd_beat)

    jobs = commands.add_parser("jobs", help="background jobs")
    jobs_commands = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_run = jobs_commands.add_parser("run", help="run the jobs (or one job) once, in-process")
    jobs_run.add_argument("name", nargs="?", default=None)
    jobs_run.set_defaults(func=cmd_jobs_run)
    jobs_commands.add_parser("status", help="last run of each job and the backlog").set_defaults(
        func=cmd_jobs_status
    )
    _add_activation(commands)
    _add_keys(commands)
    tenant = commands.add_parser("tenant", help="a tenant's data: export and import")
    tenant_commands = tenant.add_subparsers(dest="tenant_command", required=True)
    export = tenant_commands.add_parser(
        "export", help="every record of a tenant as one signed archive (JSON lines per table, worklogs CSV)"
    )
    export.add_argument("slug")
    export.add_argument("--out", required=True, help="the archive to write (.zip)")
    export.set_defaults(func=cmd_tenant_export)
    load = tenant_commands.add_parser(
        "import", help="load an export into this installation's database (migrated, without the tenant)"
    )
    load.add_argument("file")
    load.set_defaults(func=cmd_tenant_import)
    settings = commands.add_parser("settings", help="the settings (STINT_…)")
    settings_commands = settings.add_subparsers(dest="settings_command", required=True)
    docs = settings_commands.add_parser(
        "docs", help="write docs/settings.md and .env.example from plugins/settings.py"
    )
    docs.add_argument("--root", default=".", help="the repository's folder (default: here)")
    docs.add_argument("--check", action="store_true", help="only say whether they are out of date")
    docs.set_defaults(func=cmd_settings_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    from core.errors import StintError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"stint: bad setting: {exc}", file=sys.stderr)
        return 2
    except StintError as exc:
        print(f"stint: {exc.detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

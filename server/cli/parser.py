"""The ``stint`` command's arguments: every command and option, built in one place, each
naming the function (in its command group's module) that runs it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .activation import cmd_activation_clock, cmd_activation_issue, cmd_activation_verify
from .jobs import cmd_beat, cmd_jobs_run, cmd_jobs_status, cmd_worker
from .keys import cmd_keys_list, cmd_keys_remove, cmd_keys_reseal, cmd_keys_rotate
from .operators import cmd_operator_code, cmd_operator_create
from .serve import cmd_db_upgrade, cmd_demo, cmd_serve
from .settings_docs import cmd_settings_docs
from .tenant import cmd_tenant_export, cmd_tenant_import

if TYPE_CHECKING:
    from datetime import date


def _day(value: str) -> date:
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a YYYY-MM-DD date") from None


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

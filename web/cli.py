"""The ``stint`` command (API.md): serve, db upgrade, demo, operator create, …"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from plugins.settings import SettingsError, load_settings

__all__ = ["main"]


def _run(work: Callable[[Any], Awaitable[int]], *, migrate: bool = True) -> int:
    """Start the adapters (schema brought up to date), run ``work``, and always close them."""
    from plugins import bootstrap

    async def go() -> int:
        stint = await bootstrap.start(load_settings(), migrate=migrate)
        try:
            return await work(stint)
        finally:
            await bootstrap.stop(stint)

    return asyncio.run(go())


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from web.app import create_app

    settings = load_settings()
    app = create_app(settings, migrate=True)
    print(f"Stint on http://{args.host}:{args.port}  (database: {settings.database_url})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", proxy_headers=False)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from plugins.storage.migrations import upgrade

    async def work(stint: Any) -> int:
        from datetime import UTC, datetime

        from plugins.storage.billing_repo import CatalogueRepo

        applied = await upgrade(stint.engine)
        seeded = await CatalogueRepo().seed(datetime.now(UTC))
        if seeded:
            print(f"plans catalogue: {seeded} default plans added")
        if applied:
            print("applied migrations: " + ", ".join(applied))
        else:
            print("schema is up to date; nothing changed")
        return 0

    return _run(work, migrate=False)


def cmd_demo(args: argparse.Namespace) -> int:
    from plugins.demo import load_demo

    async def work(stint: Any) -> int:
        logins = await load_demo(stint)
        print("Demo logins (POST /api/v1/auth/token with tenant, email, password):")
        for login in logins:
            print(f"  {login.realm:<8} tenant={login.tenant:<12} {login.email:<20} "
                  f"password={login.password}   # {login.what}")
        return 0

    return _run(work)


def cmd_operator_create(args: argparse.Namespace) -> int:
    from core.services.identity import create_operator

    async def work(stint: Any) -> int:
        operator = await create_operator(
            stint.uow, stint.hasher, stint.clock, email=args.email, password=args.password,
            name=args.name or "",
        )
        print(f"operator {operator.email} created")
        return 0

    return _run(work)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stint", description="Stint: licensing, subscriptions, time.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web app (API, pages, operator console)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
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
    create.set_defaults(func=cmd_operator_create)
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

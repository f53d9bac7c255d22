"""``stint tenant export|import``: a tenant's data as one signed archive, and loading it."""

from __future__ import annotations

import argparse
import asyncio
import sys

from plugins.settings import load_settings


def cmd_tenant_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from plugins.storage.tenant_export.archive import ExportError
    from plugins.storage.tenant_export.writing import export_tenant

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

    from plugins.storage.tenant_export.archive import ExportError
    from plugins.storage.tenant_export.restoring import import_tenant

    settings = load_settings()
    try:
        summary = asyncio.run(import_tenant(settings.database_url, Path(args.file), settings.secret_keys))
    except ExportError as exc:
        print(f"stint tenant import: {exc}", file=sys.stderr)
        return 1
    print(f"imported tenant {summary.tenant}: {sum(summary.tables.values())} rows into "
          f"{len(summary.tables)} tables")
    return 0

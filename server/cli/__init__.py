"""The ``stint`` command (API.md): serve, db upgrade, demo, operator create, …

``main`` is the console script's entry point (``stint = "server.cli:main"``); the arguments
are parsed in :mod:`server.cli.parser`, and each command group lives in its own module:
:mod:`~server.cli.serve` (serve, db upgrade, demo), :mod:`~server.cli.operators`,
:mod:`~server.cli.activation`, :mod:`~server.cli.keys`, :mod:`~server.cli.jobs` (worker, beat,
jobs), :mod:`~server.cli.tenant` (export, import) and :mod:`~server.cli.settings_docs`.
"""

from __future__ import annotations

import sys

from plugins.settings import SettingsError

from .parser import build_parser

__all__ = ["main"]


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

"""``stint settings docs``: docs/settings.md and .env.example, written from plugins/settings.py."""

from __future__ import annotations

import argparse
import sys


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

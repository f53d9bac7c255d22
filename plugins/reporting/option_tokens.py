"""The small strict tokenizer of the OData options that are not expressions: text cut at
commas or slashes outside parentheses and quotes, ``name(inner)`` calls, property names and
paths; anything it does not recognise is a 400 naming it."""

from __future__ import annotations

import re

from core.reporting.query import Path, QueryRefused

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}(/[A-Za-z_][A-Za-z0-9_]{0,63})*")


def split_outside(text: str, sep: str) -> list[str]:
    """``text`` cut at ``sep`` outside parentheses and single-quoted strings."""
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted  # '' inside a string toggles twice: still inside
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise QueryRefused(f"unbalanced ')' in '{text[:80]}'")
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if depth or quoted:
        raise QueryRefused(f"unbalanced parentheses or quotes in '{text[:80]}'")
    parts.append(text[start:].strip())
    return parts


def split_call(text: str) -> tuple[str, str]:
    """``name(inner)`` → (name, inner)."""
    match = re.fullmatch(r"\s*([A-Za-z]+)\s*\((.*)\)\s*", text, re.S)
    if match is None:
        raise QueryRefused(f"cannot read '{text[:80]}'")
    return match.group(1), match.group(2)


def one_path(text: str, option: str) -> Path:
    if not _PATH.fullmatch(text):
        raise QueryRefused(f"{option}: '{text[:80]}' is not a property name")
    return Path(tuple(text.split("/")))


def name_list(text: str, option: str) -> list[str]:
    names = [part.strip() for part in text.split(",")]
    for name in names:
        if not NAME.fullmatch(name):
            raise QueryRefused(f"{option}: '{name[:80]}' is not a property name")
    return names

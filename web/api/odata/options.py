"""A Reporting API request's query options: the ``$`` options of the query string or of a
``$query`` body, an entity's key in the path, and ``Prefer: odata.maxpagesize``."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from core.reporting import Edm, EntitySet, QueryRefused

__all__ = ["MAX_QUERY_BODY", "SEGMENT", "key_value", "options_of", "preferred_max_page", "query_pairs"]

SEGMENT = re.compile(r"([A-Za-z]+)(?:\((.{1,200})\))?")
#: Longest ``$query`` body (the options of a POST, as a query string).
MAX_QUERY_BODY = 64 * 1024


def options_of(pairs: list[tuple[str, str]]) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, value in pairs:
        if not name.startswith("$"):
            raise QueryRefused(
                f"the query option '{name[:40]}' is not supported (system options start with $)"
            )
        if name in options:
            raise QueryRefused(f"{name[:40]} is given twice")
        options[name] = value
    return options


def preferred_max_page(request: Request[Any, Any, Any]) -> int | None:
    for preference in request.headers.getall("prefer", []):
        for part in preference.split(","):
            name, _, value = part.strip().partition("=")
            if name.strip().lower() == "odata.maxpagesize" and value.strip().isdigit():
                return max(1, min(int(value.strip()), 1_000_000))
    return None


def key_value(entity_set: EntitySet, text: str) -> Any:
    edm = entity_set.key_property.edm
    if edm is Edm.INT64:
        if not re.fullmatch(r"-?\d{1,18}", text):
            raise QueryRefused(f"the key of {entity_set.name} is a number")
        return int(text)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    raise QueryRefused(f"the key of {entity_set.name} is text: {entity_set.name}('…')")


def query_pairs(text: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    try:
        return parse_qsl(
            text.strip(), keep_blank_values=True, strict_parsing=bool(text.strip()), max_num_fields=50
        )
    except ValueError as exc:
        raise QueryRefused(f"the $query body cannot be read as query options: {exc}") from None

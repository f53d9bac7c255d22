"""What both directions of a tenant archive share: the format's name, the error and summary
they answer with, and a column's value as JSON and back as the target column wants it."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["FORMAT", "ExportError", "ExportSummary", "plain_value", "typed_value"]

FORMAT = "stint-tenant-export/1"


class ExportError(Exception):
    """An export or import that cannot go on; the message says why."""


@dataclass
class ExportSummary:
    tenant: str
    tables: dict[str, int] = field(default_factory=dict)


# --- values ------------------------------------------------------------------------------------


def plain_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    return value


def typed_value(value: Any, kind: str, *, postgres: bool) -> Any:
    """A JSON value as the target column wants it."""
    if value is None:
        return None
    if isinstance(value, dict) and set(value) == {"base64"}:
        return base64.b64decode(value["base64"])
    if "timestamp" in kind:
        moment = datetime.fromisoformat(str(value))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return moment if postgres else str(moment.astimezone(UTC))
    if kind == "date":
        return date.fromisoformat(str(value)[:10]) if postgres else str(value)[:10]
    if kind.startswith("bool"):
        return bool(value)
    if postgres and kind in {"integer", "bigint", "smallint"}:
        return int(value)
    if postgres and kind in {"numeric", "decimal"}:
        return Decimal(str(value))
    return value

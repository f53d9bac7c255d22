"""The Reporting API's ``$skiptoken``: what a cursor is bound to (tenant, user, entity set and
query) and the keyset values it carries, sealed with the app's keys."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.reporting import QueryRefused
from plugins.bootstrap import Stint

from ...auth import TenantPrincipal


def cursor_owner(principal: TenantPrincipal, entity_set: str, options: dict[str, str]) -> str:
    """What a cursor is bound to: tenant, user, set and the query (options but the cursor)."""
    canonical = json.dumps(sorted((k, v) for k, v in options.items() if k != "$skiptoken"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"odata:{principal.tenant.id}:{principal.user.id}:{entity_set}:{digest}"


def pack(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


def _unpack(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        return Decimal(value["n"])
    return value


def opened_cursor(stint: Stint, owner: str, sealed: str) -> tuple[tuple[Any, ...], int | None]:
    try:
        payload = json.loads(stint.report_cursors.open(owner, sealed))
        return tuple(_unpack(v) for v in payload["a"]), payload["r"]
    except (ValueError, KeyError, TypeError):
        raise QueryRefused(
            "$skiptoken is not valid for this query (it belongs to another query, "
            "user or tenant, or was changed)"
        ) from None

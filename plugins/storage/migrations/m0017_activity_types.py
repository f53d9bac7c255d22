"""Activity types become a tenant catalogue, and rates arrive (SPEC §12).

New tables: ``activity_type`` (unique per tenant by the case-folded name), ``user_rate`` and
``rate_setting`` (the tenant's rate currency). Worklogs and timers gain ``activity_type_id``
(their ``activity_type`` keeps the entry's current name); timers gain the billable default.

The backfill (:func:`backfill`) runs in the migration's transaction, once:

* every tenant gets the default catalogue (names it has already are left alone);
* every distinct free-text activity type on a tenant's worklogs becomes an entry; spellings
  that differ only in case or surrounding blanks merge into one entry (named after the most
  used spelling, ties to the first in sort order), or join a default entry of that name;
* the worklogs get the entry's id, and its name.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from piccolo.querystring import QueryString

from core.activities import DEFAULT_CATALOGUE, DEFAULT_COLOR, name_key
from core.ids import new_id

from .columns import AddColumn

ID = "0017"
DESCRIPTION = "activity type catalogue, user rates and the rate currency"


async def _rows(engine: Any, sql: str, *args: Any) -> list[dict[str, Any]]:
    return list(await engine.run_querystring(QueryString(sql, *args)) or [])


async def backfill(engine: Any) -> None:
    now = datetime.now(UTC)
    tenants = [row["id"] for row in await _rows(engine, "SELECT id FROM tenant ORDER BY id")]
    entries: dict[str, dict[str, str]] = defaultdict(dict)  # tenant → name key → id
    for row in await _rows(engine, "SELECT id, tenant_id, name_key FROM activity_type"):
        entries[row["tenant_id"]][row["name_key"]] = row["id"]
    used: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for row in await _rows(
        engine,
        "SELECT tenant_id, activity_type, COUNT(*) AS n FROM worklog "
        "WHERE activity_type IS NOT NULL GROUP BY tenant_id, activity_type",
    ):
        used[row["tenant_id"]][name_key(row["activity_type"])][row["activity_type"]] += int(row["n"])

    insert = (
        "INSERT INTO activity_type (id, tenant_id, name, name_key, color, billable_by_default, "
        "active, rate_amount, rate_currency, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, NULL, NULL, {}, {})"
    )
    for tenant_id in sorted(set(tenants) | set(used)):
        taken = entries[tenant_id]
        for name, color, billable in DEFAULT_CATALOGUE:
            if name_key(name) not in taken:
                taken[name_key(name)] = new_id()
                await _rows(engine, insert, taken[name_key(name)], tenant_id, name, name_key(name),
                            color, billable, True, now, now)
        for key, spellings in sorted(used[tenant_id].items()):
            if not key:
                continue
            if key not in taken:
                # The most used spelling names the entry; ties go to the first in sort order.
                name = min(spellings, key=lambda s: (-spellings[s], s)).strip()
                taken[key] = new_id()
                await _rows(engine, insert, taken[key], tenant_id, name, key, DEFAULT_COLOR,
                            False, True, now, now)
            current = (await _rows(engine, "SELECT name FROM activity_type WHERE id = {}", taken[key]))[0]
            for spelling in spellings:
                await _rows(
                    engine,
                    "UPDATE worklog SET activity_type_id = {}, activity_type = {} "
                    "WHERE tenant_id = {} AND activity_type = {}",
                    taken[key], current["name"], tenant_id, spelling,
                )


STATEMENTS: list[Any] = [
    """CREATE TABLE IF NOT EXISTS activity_type (
    id VARCHAR(32) PRIMARY KEY NOT NULL,
    tenant_id VARCHAR(32) NOT NULL,
    name VARCHAR(200) NOT NULL,
    name_key VARCHAR(200) NOT NULL,
    color VARCHAR(7) NOT NULL,
    billable_by_default BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    rate_amount BIGINT,
    rate_currency VARCHAR(3),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS activity_type_name ON activity_type (tenant_id, name_key)",
    """CREATE TABLE IF NOT EXISTS user_rate (
    id VARCHAR(32) PRIMARY KEY NOT NULL,
    tenant_id VARCHAR(32) NOT NULL,
    user_id VARCHAR(32) NOT NULL,
    amount BIGINT NOT NULL,
    currency VARCHAR(3) NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS user_rate_user ON user_rate (tenant_id, user_id)",
    """CREATE TABLE IF NOT EXISTS rate_setting (
    tenant_id VARCHAR(32) PRIMARY KEY NOT NULL,
    currency VARCHAR(3) NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)""",
    AddColumn("worklog", "activity_type_id", "VARCHAR(32)"),
    "CREATE INDEX IF NOT EXISTS worklog_activity_type ON worklog (tenant_id, activity_type_id)",
    AddColumn("tracking_timer", "activity_type_id", "VARCHAR(32)"),
    AddColumn("tracking_timer", "activity_type", "VARCHAR(200)"),
    AddColumn("tracking_timer", "billable", "BOOLEAN NOT NULL DEFAULT FALSE"),
    backfill,
]

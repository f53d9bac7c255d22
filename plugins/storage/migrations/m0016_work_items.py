"""Work items and iterations: the tenant's mirror (standalone items or Azure DevOps').

Work items and iterations are keyed by ``(tenant_id, item_id)`` / ``(tenant_id,
iteration_id)``, integers as in Azure DevOps; the ``id`` column is the row's own key, as
on every other table. Hours are integer hundredths of an hour (exact). ``search_title`` is
the title lower-cased by Stint, so a search is the same on both engines and the fakes.
``work_item_counter`` hands out a tenant's standalone ids; ``work_item_sync`` is where the
tenant's last Azure DevOps sync got to.

The backfill turns every work item already named on a worklog, timer, outbox row or
``local_work_item`` row into a mirror row: a positive decimal integer keeps its number as
id; any other text gets a new id and keeps the text as its title, and the worklogs, timers,
outbox and ``local_work_item`` rows that named it are rewritten to the new id. Estimates and the revision of
``local_work_item`` move across (the table stays, unused: migrations are additive).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from piccolo.querystring import QueryString

from core.ids import new_id

from .columns import DataStep

ID = "0016"
DESCRIPTION = "work items and iterations mirror"

# A work item id: a positive decimal integer without a leading zero that fits a BIGINT
# (18 digits always do). "007" is text: it would not read back as itself.
_ID_TEXT = re.compile(r"[1-9][0-9]{0,17}")
# Where work items were named before the mirror existed: (table, column).
_NAMED_IN = (("worklog", "work_item"), ("tracking_timer", "work_item"), ("work_item_outbox", "work_item"))


def is_id_text(text: str) -> bool:
    return _ID_TEXT.fullmatch(text) is not None


async def _rows(engine: Any, sql: str, *args: Any) -> list[dict[str, Any]]:
    return list(await engine.run_querystring(QueryString(sql, *args)))


async def _backfill(engine: Any) -> None:
    names: dict[str, set[str]] = {}
    for table, column in (*_NAMED_IN, ("local_work_item", "item")):
        for row in await _rows(engine, f"SELECT DISTINCT tenant_id, {column} AS name FROM {table}"):
            if row["name"]:
                names.setdefault(row["tenant_id"], set()).add(row["name"])
    local: dict[tuple[str, str], dict[str, Any]] = {
        (row["tenant_id"], row["item"]): row
        for row in await _rows(
            engine,
            "SELECT tenant_id, item, title, completed_centihours, remaining_centihours, rev, updated_at "
            "FROM local_work_item",
        )
    }
    now = datetime.now(UTC)
    for tenant_id in sorted(names):
        texts = names[tenant_id]
        existing = {
            int(row["item_id"])
            for row in await _rows(engine, "SELECT item_id FROM work_item WHERE tenant_id = {}", tenant_id)
        }
        numbered = {text: int(text) for text in texts if is_id_text(text)}
        next_id = max([*numbered.values(), *existing], default=0) + 1
        for text in sorted(texts - numbered.keys()):
            numbered[text] = next_id
            next_id += 1
        for text, item_id in sorted(numbered.items(), key=lambda pair: pair[1]):
            if item_id in existing:
                continue
            existing.add(item_id)
            old = local.get((tenant_id, text), {})
            fallback = f"Work item {text}" if is_id_text(text) else text
            title = (old.get("title") or "").strip() or fallback
            title = title[:255]
            await _rows(
                engine,
                "INSERT INTO work_item (id, tenant_id, item_id, title, search_title, type, state, "
                "state_category, completed_centihours, remaining_centihours, rev, tags, changed_at) "
                "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                new_id(),
                tenant_id, item_id, title, title.lower()[:255], "Task", "New", "Proposed",
                old.get("completed_centihours"), old.get("remaining_centihours"), old.get("rev") or 1, "",
                old.get("updated_at") or now,
            )
            if str(item_id) != text:
                # local_work_item too, so a second run (a reinstall without the ledger) finds
                # the new id there and adds nothing.
                for table, column in (*_NAMED_IN, ("local_work_item", "item")):
                    await _rows(
                        engine,
                        f"UPDATE {table} SET {column} = {{}} WHERE tenant_id = {{}} AND {column} = {{}}",
                        str(item_id), tenant_id, text,
                    )
        counter = await _rows(
            engine, "SELECT next_work_item_id FROM work_item_counter WHERE tenant_id = {}", tenant_id
        )
        if counter:
            await _rows(
                engine,
                "UPDATE work_item_counter SET next_work_item_id = {} "
                "WHERE tenant_id = {} AND next_work_item_id < {}",
                next_id, tenant_id, next_id,
            )
        else:
            await _rows(
                engine,
                "INSERT INTO work_item_counter (tenant_id, next_work_item_id, next_iteration_id) "
                "VALUES ({}, {}, 1)",
                tenant_id, next_id,
            )


STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS work_item (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        item_id BIGINT NOT NULL,
        title VARCHAR(255) NOT NULL,
        search_title VARCHAR(255) NOT NULL,
        type VARCHAR(64) NOT NULL,
        state VARCHAR(64) NOT NULL,
        state_category VARCHAR(16) NOT NULL,
        parent_id BIGINT,
        iteration_id BIGINT,
        area_path VARCHAR(400),
        assigned_name VARCHAR(255),
        assigned_user_id VARCHAR(32),
        assigned_unique_name VARCHAR(320),
        original_estimate_centihours BIGINT,
        remaining_centihours BIGINT,
        completed_centihours BIGINT,
        rev INTEGER NOT NULL DEFAULT 1,
        tags TEXT NOT NULL DEFAULT '',
        changed_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS work_item_key ON work_item (tenant_id, item_id)",
    "CREATE INDEX IF NOT EXISTS work_item_parent ON work_item (tenant_id, parent_id)",
    "CREATE INDEX IF NOT EXISTS work_item_iteration ON work_item (tenant_id, iteration_id)",
    """CREATE TABLE IF NOT EXISTS iteration (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        iteration_id BIGINT NOT NULL,
        path VARCHAR(400) NOT NULL,
        start_on DATE,
        finish_on DATE,
        external_id VARCHAR(64),
        changed_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS iteration_key ON iteration (tenant_id, iteration_id)",
    """CREATE TABLE IF NOT EXISTS work_item_counter (
        tenant_id VARCHAR(32) PRIMARY KEY NOT NULL,
        next_work_item_id BIGINT NOT NULL,
        next_iteration_id BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS work_item_sync (
        tenant_id VARCHAR(32) PRIMARY KEY NOT NULL,
        watermark TIMESTAMPTZ,
        last_run_at TIMESTAMPTZ,
        last_success_at TIMESTAMPTZ,
        last_error TEXT,
        items_seen INTEGER NOT NULL DEFAULT 0
    )""",
    DataStep(_backfill),
]

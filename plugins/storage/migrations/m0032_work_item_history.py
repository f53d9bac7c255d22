"""Daily history of Remaining and Completed Work per work item (issue #19: the burndown).

One row per item per day (UTC): the day's last values and the item's iteration, unique on
``(tenant_id, item_id, day)``. Written wherever the mirror row is (the Azure DevOps sync's
upsert and every standalone change). The backfill gives every existing item one row on the
day it last changed, so an iteration under way has a starting point. ``mail_outbox`` gains
``in_doubt_at`` (mails that may have been accepted without being recorded: never re-sent).
Additive only.
"""

from __future__ import annotations

from typing import Any

from .columns import AddColumn, DataStep

ID = "0032"
DESCRIPTION = "work_item_history: Remaining and Completed Work per item per day; mail_outbox.in_doubt_at"

_COPY = (
    "INSERT INTO work_item_history (id, tenant_id, item_id, day, iteration_id, remaining_centihours, "
    "completed_centihours, changed_at) "
    "SELECT w.id, w.tenant_id, w.item_id, {day}, w.iteration_id, w.remaining_centihours, "
    "w.completed_centihours, w.changed_at FROM work_item w "
    "WHERE NOT EXISTS (SELECT 1 FROM work_item_history h "
    "WHERE h.tenant_id = w.tenant_id AND h.item_id = w.item_id)"
)


async def _backfill(engine: Any) -> None:
    # The mirror row's own key is unique, so it serves as the history row's key too. The
    # day is the UTC date of the last change: each engine says that its own way.
    if engine.engine_type == "sqlite":
        day = "date(w.changed_at)"
    else:
        day = "CAST((w.changed_at AT TIME ZONE 'UTC') AS DATE)"
    await engine.run_ddl(_COPY.format(day=day))


STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS work_item_history (
    id VARCHAR(32) PRIMARY KEY NOT NULL,
    tenant_id VARCHAR(32) NOT NULL,
    item_id BIGINT NOT NULL,
    day DATE NOT NULL,
    iteration_id BIGINT,
    remaining_centihours BIGINT,
    completed_centihours BIGINT,
    changed_at TIMESTAMPTZ NOT NULL
)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS work_item_history_day ON work_item_history (tenant_id, item_id, day)",
    # The burndown asks for the items ever in an iteration.
    "CREATE INDEX IF NOT EXISTS work_item_history_iteration ON work_item_history "
    "(tenant_id, iteration_id)",
    DataStep(_backfill),
    # Delivery at most once (docs/jobs.md): a mail that may have reached the mail server
    # without being recorded as sent is marked, and never sent again.
    AddColumn("mail_outbox", "in_doubt_at", "TIMESTAMPTZ"),
]

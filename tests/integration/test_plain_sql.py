"""Plain SQL statements (plugins/storage/plain_sql.py) on both engines: they run in the unit of
work's transaction, outside one on a pooled connection, and a read unit of work still
refuses a write sent this way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from plugins.storage.billing_tables import BillingEvent
from plugins.storage.plain_sql import Sql, fetch
from plugins.storage.uow import PiccoloUnitOfWorkFactory, ReadOnlyViolation

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
CLAIM = Sql("INSERT INTO billing_event (id, type, outcome, received_at) VALUES ({}, {}, {}, {}) RETURNING id")
SEEN = Sql("SELECT id, received_at FROM billing_event WHERE id = {}")


def test_placeholders_are_numbered_for_postgresql_and_kept_for_piccolo() -> None:
    assert CLAIM.postgres.endswith("VALUES ($1, $2, $3, $4) RETURNING id")
    assert CLAIM.text.endswith("VALUES ({}, {}, {}, {}) RETURNING id")


async def test_a_statement_commits_and_rolls_back_with_its_unit_of_work(engine: Any) -> None:
    uow = PiccoloUnitOfWorkFactory(engine)
    async with uow(write=True) as work:
        claimed = await fetch(BillingEvent, CLAIM, "evt_kept", "invoice.paid", "paid", NOW)
        assert claimed == [{"id": "evt_kept"}]
        await work.commit()
    async with uow(write=True):
        await fetch(BillingEvent, CLAIM, "evt_dropped", "invoice.paid", "paid", NOW)
    # Outside any unit of work: a pooled connection, as Piccolo would use.
    (row,) = await fetch(BillingEvent, SEEN, "evt_kept")
    assert row["received_at"] == NOW  # a datetime on both engines
    assert await fetch(BillingEvent, SEEN, "evt_dropped") == []


async def test_a_write_sent_as_plain_sql_in_a_read_unit_of_work_is_refused_on_postgresql_and_never_kept(
    engine: Any,
) -> None:
    uow = PiccoloUnitOfWorkFactory(engine)
    refused = False
    try:
        async with uow():
            await fetch(BillingEvent, CLAIM, "evt_read", "invoice.paid", "paid", NOW)
    except ReadOnlyViolation:
        refused = True
    # PostgreSQL's read unit of work has no transaction, so it checks each statement; SQLite's
    # is a transaction that is never committed.
    assert refused == (engine.engine_type == "postgres")
    assert await fetch(BillingEvent, SEEN, "evt_read") == []

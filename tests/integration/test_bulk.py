"""Bulk inserts (plugins/storage/bulk.py): sized to the driver's limits, only inside a write
unit of work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from plugins.storage.billing_tables import BillingEvent
from plugins.storage.bulk import insert_rows, rows_per_statement, sqlite_variable_limit
from plugins.storage.uow import PiccoloUnitOfWorkFactory

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
COLUMNS = ("id", "type", "outcome", "received_at")


@pytest.mark.parametrize(("columns", "limit", "rows"), [(15, 999, 66), (15, 32_766, 2_184), (6, 999, 166)])
def test_a_statement_holds_as_many_rows_as_the_variable_limit_allows(
    columns: int, limit: int, rows: int
) -> None:
    assert rows_per_statement(columns, limit) == rows


def test_a_row_wider_than_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        rows_per_statement(1_000, 999)


def test_the_sqlite_limit_is_read_from_the_library() -> None:
    assert sqlite_variable_limit() >= 999


async def test_bulk_inserts_refuse_to_run_outside_a_write_unit_of_work(engine: Any) -> None:
    """Without the write unit of work's transaction a failure halfway would keep half the rows."""
    rows = [(f"evt_{n}", "invoice.paid", "paid", NOW) for n in range(200)]
    with pytest.raises(RuntimeError, match="write unit of work"):
        await insert_rows(engine, "billing_event", COLUMNS, rows)
    if engine.engine_type == "postgres":  # SQLite's read unit of work is a transaction too
        async with PiccoloUnitOfWorkFactory(engine)():
            with pytest.raises(RuntimeError, match="write unit of work"):
                await insert_rows(engine, "billing_event", COLUMNS, rows)


async def test_rows_already_there_are_skipped_when_asked(engine: Any) -> None:
    """skip_conflicts_on: the second insert of the same keys stores only the new ones."""
    uow = PiccoloUnitOfWorkFactory(engine)
    async with uow(write=True) as work:
        first = [(f"evt_{n}", "a", "paid", NOW) for n in range(150)]
        again = [(f"evt_{n}", "b", "paid", NOW) for n in range(100, 300)]
        await insert_rows(engine, "billing_event", COLUMNS, first)
        await insert_rows(engine, "billing_event", COLUMNS, again, skip_conflicts_on=("id",))
        await work.commit()
    rows = await BillingEvent.select(BillingEvent.id, BillingEvent.type)
    assert len(rows) == 300
    assert {row["type"] for row in rows if row["id"] == "evt_120"} == {"a"}

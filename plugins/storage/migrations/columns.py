"""A column added to an existing table, applied only where it is missing.

``ALTER TABLE … ADD COLUMN`` has no ``IF NOT EXISTS`` on SQLite, and an install over an
existing database may find the column there already (the ledger lost, or a newer
schema), so the runner asks the database first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["AddColumn", "DataStep", "PostgresOnly", "has_column"]


@dataclass(frozen=True, slots=True)
class AddColumn:
    table: str
    column: str
    #: The column's type and constraints, portable (``VARCHAR(64)``, ``BOOLEAN NOT NULL DEFAULT FALSE``).
    definition: str

    @property
    def ddl(self) -> str:
        return f"ALTER TABLE {self.table} ADD COLUMN {self.column} {self.definition}"


@dataclass(frozen=True, slots=True)
class PostgresOnly:
    """DDL that only PostgreSQL needs, such as widening a ``VARCHAR``: SQLite does not enforce
    a declared length, so there the statement has nothing to change and is skipped."""

    ddl: str


async def has_column(engine: Any, table: str, column: str) -> bool:
    if engine.engine_type == "sqlite":
        rows = await engine.run_ddl(f"PRAGMA table_info({table})")
        return any(row["name"] == column for row in rows)
    rows = await engine.run_ddl(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        f"AND table_name = '{table}' AND column_name = '{column}'"
    )
    return bool(rows)


@dataclass(frozen=True, slots=True)
class DataStep:
    """A step that moves rows with Python, inside the migration's transaction.

    For a backfill that portable SQL cannot say (new ids per tenant, text rewritten to
    them). ``run`` gets the engine; its ``run_ddl`` and ``run_querystring`` use the open
    transaction, so the step commits or rolls back with the rest of the migration.
    """

    run: Callable[[Any], Awaitable[None]]

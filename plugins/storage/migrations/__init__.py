"""Versioned schema migrations and the runner behind ``stint db upgrade``.

Each migration is a module with ``ID``, ``DESCRIPTION`` and ``STATEMENTS``
(portable DDL). The runner records applied ids in ``stint_schema_migration``,
applies the missing ones in order, each in its own transaction, and never drops
or rewrites what exists: installing over an existing database creates missing
tables, leaves current ones alone and upgrades older ones in place (SPEC §3).
Migrations are additive so SQLite can run them; a column added to an existing table
is an :class:`~.columns.AddColumn`, applied only where it is missing; a backfill that
portable SQL cannot say is a :class:`~.columns.DataStep` (Python, in the same transaction).
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from piccolo.engine.base import BaseTransaction, Engine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from . import (
    m0001_identity_and_licensing,
    m0002_tokens,
    m0003_tracking,
    m0004_billing_events,
    m0005_activation,
    m0006_jobs,
    m0007_devops_connection,
    m0008_billing_retry,
    m0009_idempotency_keys,
    m0011_audit_address,
    m0012_second_factor,
    m0013_trusted_time,
    m0014_credit_notes,
    m0015_user_second_factor,
    m0016_work_items,
    m0017_activity_types,
    m0018_budgets,
    m0019_work_item_automation,
    m0020_wider_names,
    m0021_invoice_numbers,
    m0022_worklog_explorer,
    m0023_approval,
    m0024_worklog_history,
    m0025_user_deactivation_and_editing_rule,
    m0026_explorer_views,
    m0027_worklog_explorer_ranges,
    m0028_token_scopes,
    m0030_notifications,
    m0031_oauth,
    m0032_work_item_history,
    m0033_user_profile,
    m0034_worklog_import,
)
from .columns import AddColumn, DataStep, PostgresOnly, has_column

__all__ = ["MIGRATIONS", "applied_migrations", "pending_migrations", "sql_text", "upgrade"]

MIGRATIONS: tuple[ModuleType, ...] = (
    m0001_identity_and_licensing,
    m0002_tokens,
    m0003_tracking,
    m0004_billing_events,
    m0005_activation,
    m0006_jobs,
    m0007_devops_connection,
    m0008_billing_retry,
    m0009_idempotency_keys,
    m0011_audit_address,
    m0012_second_factor,
    m0013_trusted_time,
    m0014_credit_notes,
    m0015_user_second_factor,
    m0016_work_items,
    m0017_activity_types,
    m0018_budgets,
    m0019_work_item_automation,
    m0020_wider_names,
    m0021_invoice_numbers,
    m0022_worklog_explorer,
    m0023_approval,
    m0024_worklog_history,
    m0025_user_deactivation_and_editing_rule,
    m0026_explorer_views,
    m0027_worklog_explorer_ranges,
    m0028_token_scopes,
    m0030_notifications,
    m0031_oauth,
    m0032_work_item_history,
    m0033_user_profile,
    m0034_worklog_import,
)

_LEDGER = """CREATE TABLE IF NOT EXISTS stint_schema_migration (
    id VARCHAR(16) PRIMARY KEY NOT NULL,
    description VARCHAR(200) NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
)"""

# Any fixed number: two `stint db upgrade` at once on PostgreSQL take turns.
_PG_LOCK = 74_657_201


async def applied_migrations(engine: Engine[Any]) -> list[str]:
    await engine.run_ddl(_LEDGER)
    rows = await engine.run_ddl("SELECT id FROM stint_schema_migration ORDER BY id")
    return [str(row["id"]) for row in rows]


def sql_text(value: str) -> str:
    """``value`` as an SQL string literal. ``run_ddl`` takes no parameters, and a migration's
    description is prose ("the tenant's rule"): a quote is doubled, as standard SQL (and so
    SQLite and PostgreSQL with its default standard_conforming_strings) reads it."""
    return "'" + value.replace("'", "''") + "'"


async def pending_migrations(engine: Engine[Any]) -> list[str]:
    """The ids of this code's migrations the database has not applied, read with plain
    SELECTs (readiness probes and ``stint serve`` ask it; it never creates the ledger).
    A database that cannot be reached raises."""
    await engine.run_ddl("SELECT 1")
    try:
        rows = await engine.run_ddl("SELECT id FROM stint_schema_migration")
    except Exception:  # no ledger yet: a database nothing was ever applied to
        rows = []
    applied = {str(row["id"]) for row in rows}
    return [migration.ID for migration in MIGRATIONS if migration.ID not in applied]


async def upgrade(engine: Engine[Any], *, target: str | None = None) -> list[str]:
    """Apply every migration not yet applied (up to ``target``); return the ids applied."""
    applied: list[str] = []
    is_pg = engine.engine_type == "postgres"
    for migration in MIGRATIONS:
        if target is not None and target < migration.ID:
            break
        async with _transaction(engine):
            if is_pg:
                # Run on the transaction's connection, so the lock is held until it ends.
                await engine.run_ddl(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
            done = set(await applied_migrations(engine))
            if migration.ID in done:
                continue
            for statement in migration.STATEMENTS:
                if isinstance(statement, DataStep):
                    await statement.run(engine)
                    continue
                if callable(statement):
                    # A data step (a backfill): async, given the engine, in this transaction.
                    await statement(engine)
                    continue
                if isinstance(statement, AddColumn):
                    if await has_column(engine, statement.table, statement.column):
                        continue
                    statement = statement.ddl
                elif isinstance(statement, PostgresOnly):
                    if not is_pg:
                        continue
                    statement = statement.ddl
                await engine.run_ddl(statement)
            when = datetime.now(UTC).isoformat()
            await engine.run_ddl(
                "INSERT INTO stint_schema_migration (id, description, applied_at) "
                f"VALUES ({sql_text(migration.ID)}, {sql_text(migration.DESCRIPTION)}, {sql_text(when)})"
            )
            applied.append(migration.ID)
    return applied


def _transaction(engine: Engine[BaseTransaction]) -> BaseTransaction:
    if isinstance(engine, SQLiteEngine):
        # IMMEDIATE: a second upgrader waits for the write lock instead of failing later.
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()

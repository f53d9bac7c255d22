"""The two engines a tenant archive is read from and written into, PostgreSQL and SQLite:
the schema each discovers (tables, columns, types, foreign keys) and rows streamed inside
one snapshot."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from ..engine import pg_config

#: Rows fetched per round trip from PostgreSQL's cursor.
PREFETCH = 2000


@dataclass(frozen=True)
class Schema:
    columns: dict[str, list[str]]
    types: dict[str, dict[str, str]]
    #: table → [(column, referenced table, referenced column)]
    foreign_keys: dict[str, list[tuple[str, str, str]]]


class Source:
    """Reads of one database: its schema and streamed rows, inside one snapshot."""

    postgres: bool

    async def schema(self) -> Schema:
        raise NotImplementedError

    def rows(self, sql: str, args: Sequence[Any]) -> AsyncIterator[dict[str, Any]]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class Postgres(Source):
    postgres = True

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._tx: Any = None

    @classmethod
    async def open(cls, url: str, *, snapshot: bool) -> Postgres:
        connection = await asyncpg.connect(**pg_config(url))
        source = cls(connection)
        if snapshot:
            source._tx = connection.transaction(isolation="repeatable_read", readonly=True)
            await source._tx.start()
        return source

    async def schema(self) -> Schema:
        columns: dict[str, list[str]] = {}
        types: dict[str, dict[str, str]] = {}
        for row in await self.connection.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        ):
            columns.setdefault(row["table_name"], []).append(row["column_name"])
            types.setdefault(row["table_name"], {})[row["column_name"]] = str(row["data_type"]).lower()
        foreign: dict[str, list[tuple[str, str, str]]] = {}
        for row in await self.connection.fetch(
            "SELECT kcu.table_name, kcu.column_name, ccu.table_name AS ref_table, "
            "ccu.column_name AS ref_column FROM information_schema.table_constraints tc "
            "JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name "
            "AND tc.table_schema = kcu.table_schema "
            "JOIN information_schema.constraint_column_usage ccu ON tc.constraint_name = ccu.constraint_name "
            "AND tc.table_schema = ccu.table_schema "
            "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"
        ):
            foreign.setdefault(row["table_name"], []).append(
                (row["column_name"], row["ref_table"], row["ref_column"])
            )
        return Schema(columns, types, foreign)

    async def rows(self, sql: str, args: Sequence[Any]) -> AsyncIterator[dict[str, Any]]:
        numbered = _numbered(sql)
        if not self.connection.is_in_transaction():  # a cursor needs one; a small read does not
            for record in await self.connection.fetch(numbered, *args):
                yield dict(record)
            return
        async for record in self.connection.cursor(numbered, *args, prefetch=PREFETCH):
            yield dict(record)

    async def close(self) -> None:
        if self._tx is not None:
            await self._tx.rollback()
        await self.connection.close()


class Sqlite(Source):
    postgres = False

    def __init__(self, path: str, *, snapshot: bool) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.row_factory = sqlite3.Row
        if snapshot:
            self.connection.execute("BEGIN")

    async def schema(self) -> Schema:
        columns: dict[str, list[str]] = {}
        types: dict[str, dict[str, str]] = {}
        foreign: dict[str, list[tuple[str, str, str]]] = {}
        tables = [r[0] for r in self.connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            for info in self.connection.execute(f'PRAGMA table_info("{table}")'):
                columns.setdefault(table, []).append(info["name"])
                types.setdefault(table, {})[info["name"]] = str(info["type"]).lower()
            for fk in self.connection.execute(f'PRAGMA foreign_key_list("{table}")'):
                foreign.setdefault(table, []).append((fk["from"], fk["table"], fk["to"] or "id"))
        return Schema(columns, types, foreign)

    async def rows(self, sql: str, args: Sequence[Any]) -> AsyncIterator[dict[str, Any]]:
        cursor = self.connection.execute(sql, tuple(args))
        while batch := cursor.fetchmany(PREFETCH):
            for row in batch:
                yield dict(row)

    async def close(self) -> None:
        self.connection.close()


async def open_source(database_url: str, *, snapshot: bool) -> Source:
    if database_url.startswith(("postgres://", "postgresql://")):
        return await Postgres.open(database_url, snapshot=snapshot)
    return Sqlite(database_url.removeprefix("sqlite:///"), snapshot=snapshot)


def _numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2 …``."""
    parts = sql.split("?")
    return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, start=1))

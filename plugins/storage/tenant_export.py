"""A tenant's data as one archive, and back (``stint tenant export`` / ``stint tenant import``).

What is exported is discovered from the database, so tables added later are included
without a change here:

- the ``tenant`` row, and every row of every table with a ``tenant_id`` column;
- the rows the tenant row points at by foreign key (its enterprise and subscription), the
  rows of tables *without* ``tenant_id`` that point at those (seats, credit entries, billing
  customer, licence registrations …), and the rows all of these point at in turn (the
  people behind the tenant's users and seats).

The archive is a ZIP written as a stream (rows are read with a server-side cursor on
PostgreSQL and a plain cursor on SQLite, inside one read-only snapshot, and written as they
come: memory stays flat however many worklogs there are): ``tables/<table>.jsonl`` (one JSON
object per row), ``worklogs.csv``, ``manifest.json`` (the tables, their columns, row counts
and SHA-256 of each member) and ``manifest.sig`` (HMAC-SHA256 of the manifest with the
current secret key, named by its ``kid``). The import checks the signature and every
member's checksum before it writes anything, then inserts parents before children in one
transaction: all or nothing.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import sqlite3
import zipfile
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from .engine import pg_config

__all__ = ["ExportError", "ExportSummary", "SignedTenantArchives", "export_tenant", "import_tenant"]

FORMAT = "stint-tenant-export/1"
#: Rows fetched per round trip from PostgreSQL's cursor.
_PREFETCH = 2000
#: Worklog columns of the CSV (those present in the database, in this order).
_WORKLOG_CSV = ("id", "user_id", "started_at", "length_s", "billable_length_s", "work_item",
                "work_item_id", "activity_type", "activity_type_id", "budget_id", "comment", "created_at",
                "updated_at")


class ExportError(Exception):
    """An export or import that cannot go on; the message says why."""


@dataclass
class ExportSummary:
    tenant: str
    tables: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Schema:
    columns: dict[str, list[str]]
    types: dict[str, dict[str, str]]
    #: table → [(column, referenced table, referenced column)]
    foreign_keys: dict[str, list[tuple[str, str, str]]]


# --- the two engines ---------------------------------------------------------------------------


class _Source:
    """Reads of one database: its schema and streamed rows, inside one snapshot."""

    postgres: bool

    async def schema(self) -> _Schema:
        raise NotImplementedError

    def rows(self, sql: str, args: Sequence[Any]) -> AsyncIterator[dict[str, Any]]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class _Postgres(_Source):
    postgres = True

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._tx: Any = None

    @classmethod
    async def open(cls, url: str, *, snapshot: bool) -> _Postgres:
        connection = await asyncpg.connect(**pg_config(url))
        source = cls(connection)
        if snapshot:
            source._tx = connection.transaction(isolation="repeatable_read", readonly=True)
            await source._tx.start()
        return source

    async def schema(self) -> _Schema:
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
        return _Schema(columns, types, foreign)

    async def rows(self, sql: str, args: Sequence[Any]) -> AsyncIterator[dict[str, Any]]:
        numbered = _numbered(sql)
        if not self.connection.is_in_transaction():  # a cursor needs one; a small read does not
            for record in await self.connection.fetch(numbered, *args):
                yield dict(record)
            return
        async for record in self.connection.cursor(numbered, *args, prefetch=_PREFETCH):
            yield dict(record)

    async def close(self) -> None:
        if self._tx is not None:
            await self._tx.rollback()
        await self.connection.close()


class _Sqlite(_Source):
    postgres = False

    def __init__(self, path: str, *, snapshot: bool) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.row_factory = sqlite3.Row
        if snapshot:
            self.connection.execute("BEGIN")

    async def schema(self) -> _Schema:
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
        return _Schema(columns, types, foreign)

    async def rows(self, sql: str, args: Sequence[Any]) -> AsyncIterator[dict[str, Any]]:
        cursor = self.connection.execute(sql, tuple(args))
        while batch := cursor.fetchmany(_PREFETCH):
            for row in batch:
                yield dict(row)

    async def close(self) -> None:
        self.connection.close()


async def _open(database_url: str, *, snapshot: bool) -> _Source:
    if database_url.startswith(("postgres://", "postgresql://")):
        return await _Postgres.open(database_url, snapshot=snapshot)
    return _Sqlite(database_url.removeprefix("sqlite:///"), snapshot=snapshot)


def _numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2 …``."""
    parts = sql.split("?")
    return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, start=1))


# --- values ------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    return value


def _typed(value: Any, kind: str, *, postgres: bool) -> Any:
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


# --- export ------------------------------------------------------------------------------------


def _sign(payload: bytes, keys: Sequence[tuple[str, str]]) -> str:
    kid, secret = keys[0]
    return f"{kid}:{hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()}"


class _HashingWriter:
    """Writes to a ZIP member and keeps the SHA-256 of what was written."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def write(self, data: str) -> int:
        encoded = data.encode("utf-8")
        self.digest.update(encoded)
        self.raw.write(encoded)
        return len(data)


async def export_tenant(
    database_url: str, slug: str, out: Path, keys: Sequence[tuple[str, str]], *, now: datetime | None = None
) -> ExportSummary:
    """Write ``slug``'s archive to ``out``; ``keys``: the secret-key ring (current first)."""
    source = await _open(database_url, snapshot=True)
    try:
        schema = await source.schema()
        tenant = [row async for row in source.rows("SELECT * FROM tenant WHERE slug = ?", [slug])]
        if not tenant:
            raise ExportError(f"no tenant {slug!r}")
        tenant_id = str(tenant[0]["id"])
        summary = ExportSummary(slug)
        manifest: dict[str, Any] = {
            "format": FORMAT, "tenant": slug, "tenant_id": tenant_id,
            "exported_at": (now or datetime.now(UTC)).isoformat(), "tables": {},
        }
        owned = sorted(t for t, cols in schema.columns.items() if "tenant_id" in cols)
        # The tenant row's own parents (enterprise, subscription): their ids.
        parents: dict[str, set[str]] = {}
        for column, ref_table, _ in schema.foreign_keys.get("tenant", []):
            if tenant[0].get(column) is not None:
                parents.setdefault(ref_table, set()).add(str(tenant[0][column]))
        children = sorted(
            t for t, fks in schema.foreign_keys.items()
            if t not in owned and t != "tenant" and t not in parents
            and any(ref in parents for _, ref, _ in fks)
        )
        referenced: dict[str, set[str]] = {}  # rows the exported rows point at (people)

        def note_references(table: str, row: dict[str, Any]) -> None:
            for column, ref_table, _ in schema.foreign_keys.get(table, []):
                if (ref_table not in owned and ref_table != "tenant" and ref_table not in parents
                        and row.get(column) is not None):
                    referenced.setdefault(ref_table, set()).add(str(row[column]))

        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:

            async def dump(table: str, rows: AsyncIterator[dict[str, Any]]) -> None:
                count = 0
                with archive.open(f"tables/{table}.jsonl", "w", force_zip64=True) as raw:
                    writer = _HashingWriter(raw)
                    async for row in rows:
                        note_references(table, row)
                        writer.write(json.dumps({k: _plain(v) for k, v in row.items()},
                                                ensure_ascii=False, separators=(",", ":")) + "\n")
                        count += 1
                manifest["tables"][table] = {"rows": count, "sha256": writer.digest.hexdigest(),
                                             "columns": schema.columns[table]}
                summary.tables[table] = count

            for table, ids in sorted(parents.items()):
                await dump(table, _rows_in(source, table, "id", ids))
            await dump("tenant", source.rows("SELECT * FROM tenant WHERE id = ?", [tenant_id]))
            for table in owned:
                order = "id" if "id" in schema.columns[table] else schema.columns[table][0]
                await dump(table, source.rows(
                    f'SELECT * FROM "{table}" WHERE tenant_id = ? ORDER BY "{order}"', [tenant_id]))
            # A shared enterprise subscription's seats (and any other row hanging off the
            # enterprise or subscription that names a person) cover every tenant of the
            # enterprise: keep only the rows whose people the tenant's own rows name, so one
            # tenant's export does not list another tenant's seat holders.
            known = {table: set(ids) for table, ids in referenced.items()}
            for table in children:
                links = [(c, ref) for c, ref, _ in schema.foreign_keys[table] if ref in parents]
                column, ref = links[0]
                people = [(c, ref_table) for c, ref_table, _ in schema.foreign_keys[table]
                          if ref_table not in owned and ref_table != "tenant" and ref_table not in parents]
                rows = _rows_in(source, table, column, parents[ref])
                await dump(table, _only_known(rows, people, known) if people else rows)
            for table, ids in sorted(referenced.items()):
                await dump(table, _rows_in(source, table, "id", ids))
            if "worklog" in schema.columns:
                manifest["worklogs_csv"] = await _worklogs_csv(
                    archive, source, [c for c in _WORKLOG_CSV if c in schema.columns["worklog"]], tenant_id
                )
            payload = json.dumps(manifest, indent=2, sort_keys=True).encode()
            archive.writestr("manifest.json", payload)
            archive.writestr("manifest.sig", _sign(payload, keys))
        return summary
    finally:
        await source.close()


class SignedTenantArchives:
    """``core.services.tenant_data.TenantArchiver`` over this installation's database."""

    def __init__(self, database_url: str, keys: Sequence[tuple[str, str]]) -> None:
        self._url = database_url
        self._keys = keys

    async def write(self, slug: str, out: Path) -> dict[str, int]:
        summary = await export_tenant(self._url, slug, out, self._keys)
        return dict(summary.tables)


async def _rows_in(
    source: _Source, table: str, column: str, ids: Iterable[str]
) -> AsyncIterator[dict[str, Any]]:
    chosen = sorted(ids)
    for start in range(0, len(chosen), 500):
        chunk = chosen[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        sql = f'SELECT * FROM "{table}" WHERE "{column}" IN ({marks}) ORDER BY "{column}"'
        async for row in source.rows(sql, chunk):
            yield row


async def _only_known(
    rows: AsyncIterator[dict[str, Any]], people: Sequence[tuple[str, str]], known: dict[str, set[str]]
) -> AsyncIterator[dict[str, Any]]:
    """The rows whose references in ``people`` ((column, table) pairs) all point at rows the
    tenant's own rows point at (a null reference is kept)."""
    async for row in rows:
        if all(row.get(col) is None or str(row[col]) in known.get(table, ()) for col, table in people):
            yield row


async def _worklogs_csv(archive: zipfile.ZipFile, source: _Source, columns: list[str],
                        tenant_id: str) -> dict[str, Any]:
    count = 0
    with archive.open("worklogs.csv", "w", force_zip64=True) as raw:
        writer = _HashingWriter(raw)
        out = csv.writer(writer, lineterminator="\n")
        out.writerow(columns)
        select = ", ".join(f'"{c}"' for c in columns)
        async for row in source.rows(
            f"SELECT {select} FROM worklog WHERE tenant_id = ? ORDER BY started_at, id", [tenant_id]
        ):
            out.writerow(["" if row[c] is None else _plain(row[c]) for c in columns])
            count += 1
    return {"rows": count, "sha256": writer.digest.hexdigest(), "columns": columns}


# --- import ------------------------------------------------------------------------------------


def _verify(archive: zipfile.ZipFile, keys: Sequence[tuple[str, str]]) -> dict[str, Any]:
    try:
        payload = archive.read("manifest.json")
        kid, _, mac = archive.read("manifest.sig").decode().partition(":")
    except KeyError:
        raise ExportError("not a Stint tenant export (no manifest)") from None
    secrets = dict(keys)
    if kid not in secrets:
        raise ExportError(f"the archive is signed with key {kid!r}, which this installation does not have "
                          "(STINT_SECRET_KEYS must list it)")
    expected = hmac.new(secrets[kid].encode(), payload, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, mac):
        raise ExportError("the archive's signature does not match: it was changed or signed elsewhere")
    manifest: dict[str, Any] = json.loads(payload)
    if manifest.get("format") != FORMAT:
        raise ExportError(f"unknown archive format {manifest.get('format')!r}")
    members = {f"tables/{t}.jsonl": m["sha256"] for t, m in manifest["tables"].items()}
    if "worklogs_csv" in manifest:
        members["worklogs.csv"] = manifest["worklogs_csv"]["sha256"]
    for name, digest in members.items():
        hasher = hashlib.sha256()
        with archive.open(name) as member:
            while chunk := member.read(1 << 20):
                hasher.update(chunk)
        if hasher.hexdigest() != digest:
            raise ExportError(f"{name} does not match its checksum")
    return manifest


def _insert_order(tables: Iterable[str], schema: _Schema) -> list[str]:
    """Parents before children (foreign keys), then by name."""
    pending = set(tables)
    ordered: list[str] = []
    while pending:
        ready = sorted(
            t for t in pending
            if not any(ref in pending and ref != t for _, ref, _ in schema.foreign_keys.get(t, []))
        )
        if not ready:  # a cycle: keep the remaining order by name
            ready = sorted(pending)
        ordered.extend(ready)
        pending -= set(ready)
    return ordered


async def import_tenant(
    database_url: str, archive_path: Path, keys: Sequence[tuple[str, str]]
) -> ExportSummary:
    """Insert an archive's rows into ``database_url`` (migrated, without this tenant)."""
    with zipfile.ZipFile(archive_path) as archive:
        manifest = _verify(archive, keys)
        target = await _open(database_url, snapshot=False)
        try:
            schema = await target.schema()
            missing = [t for t in manifest["tables"] if t not in schema.columns]
            if missing:
                raise ExportError(f"this database has no table {missing[0]!r}: run `stint db upgrade` "
                                  "with a Stint at least as new as the exporting one")
            existing = [r async for r in target.rows("SELECT id FROM tenant WHERE id = ? OR slug = ?",
                                                     [manifest["tenant_id"], manifest["tenant"]])]
            if existing:
                raise ExportError(f"this database already has tenant {manifest['tenant']!r}")
            summary = ExportSummary(manifest["tenant"])
            order = _insert_order(manifest["tables"], schema)
            if isinstance(target, _Postgres):
                async with target.connection.transaction():
                    for table in order:
                        summary.tables[table] = await _load_pg(target, archive, table, schema)
            else:
                assert isinstance(target, _Sqlite)
                target.connection.execute("BEGIN IMMEDIATE")
                try:
                    for table in order:
                        summary.tables[table] = _load_sqlite(target, archive, table, schema)
                    target.connection.execute("COMMIT")
                except BaseException:
                    target.connection.execute("ROLLBACK")
                    raise
            for table, meta in manifest["tables"].items():
                if summary.tables[table] != meta["rows"]:
                    raise ExportError(f"{table}: {summary.tables[table]} rows read, {meta['rows']} exported")
            return summary
        finally:
            await target.close()


def _batches(archive: zipfile.ZipFile, table: str, columns: list[str], types: dict[str, str],
             postgres: bool) -> Iterable[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    with archive.open(f"tables/{table}.jsonl") as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            row = json.loads(line)
            batch.append(tuple(_typed(row.get(c), types.get(c, ""), postgres=postgres) for c in columns))
            if len(batch) >= _PREFETCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _columns_of(archive: zipfile.ZipFile, table: str, schema: _Schema) -> list[str]:
    with archive.open(f"tables/{table}.jsonl") as raw:
        first = raw.readline()
    exported = list(json.loads(first)) if first.strip() else schema.columns[table]
    return [c for c in exported if c in schema.columns[table]]


async def _load_pg(target: _Postgres, archive: zipfile.ZipFile, table: str, schema: _Schema) -> int:
    columns = _columns_of(archive, table, schema)
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    count = 0
    for batch in _batches(archive, table, columns, schema.types[table], True):
        await target.connection.executemany(sql, batch)
        count += len(batch)
    return count


def _load_sqlite(target: _Sqlite, archive: zipfile.ZipFile, table: str, schema: _Schema) -> int:
    columns = _columns_of(archive, table, schema)
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" for _ in columns)})'
    count = 0
    for batch in _batches(archive, table, columns, schema.types[table], False):
        target.connection.executemany(sql, batch)
        count += len(batch)
    return count

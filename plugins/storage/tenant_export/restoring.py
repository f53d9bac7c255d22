"""Restoring a tenant's archive: its signature and every member's checksum verified before
anything is written, then its rows inserted parents before children in one transaction."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .archive import FORMAT, ExportError, ExportSummary, typed_value
from .databases import PREFETCH, Postgres, Schema, Sqlite, open_source

__all__ = ["import_tenant"]


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


def _insert_order(tables: Iterable[str], schema: Schema) -> list[str]:
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
        target = await open_source(database_url, snapshot=False)
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
            if isinstance(target, Postgres):
                async with target.connection.transaction():
                    for table in order:
                        summary.tables[table] = await _load_pg(target, archive, table, schema)
            else:
                assert isinstance(target, Sqlite)
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
            batch.append(tuple(typed_value(row.get(c), types.get(c, ""), postgres=postgres) for c in columns))
            if len(batch) >= PREFETCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _columns_of(archive: zipfile.ZipFile, table: str, schema: Schema) -> list[str]:
    with archive.open(f"tables/{table}.jsonl") as raw:
        first = raw.readline()
    exported = list(json.loads(first)) if first.strip() else schema.columns[table]
    return [c for c in exported if c in schema.columns[table]]


async def _load_pg(target: Postgres, archive: zipfile.ZipFile, table: str, schema: Schema) -> int:
    columns = _columns_of(archive, table, schema)
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    count = 0
    for batch in _batches(archive, table, columns, schema.types[table], True):
        await target.connection.executemany(sql, batch)
        count += len(batch)
    return count


def _load_sqlite(target: Sqlite, archive: zipfile.ZipFile, table: str, schema: Schema) -> int:
    columns = _columns_of(archive, table, schema)
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" for _ in columns)})'
    count = 0
    for batch in _batches(archive, table, columns, schema.types[table], False):
        target.connection.executemany(sql, batch)
        count += len(batch)
    return count

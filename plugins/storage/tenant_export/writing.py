"""Writing a tenant's archive: its rows streamed into the ZIP (the tenant's own, their
parents, the rows hanging off those and the people they name), ``worklogs.csv``, and the
manifest with its signature."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import zipfile
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .archive import FORMAT, ExportError, ExportSummary, plain_value
from .databases import Source, open_source

__all__ = ["SignedTenantArchives", "export_tenant"]

#: Worklog columns of the CSV (those present in the database, in this order).
_WORKLOG_CSV = ("id", "user_id", "started_at", "length_s", "billable_length_s", "work_item",
                "work_item_id", "activity_type", "activity_type_id", "budget_id", "comment", "created_at",
                "updated_at")


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
    source = await open_source(database_url, snapshot=True)
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
                        writer.write(json.dumps({k: plain_value(v) for k, v in row.items()},
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
    source: Source, table: str, column: str, ids: Iterable[str]
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


async def _worklogs_csv(archive: zipfile.ZipFile, source: Source, columns: list[str],
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
            out.writerow(["" if row[c] is None else plain_value(row[c]) for c in columns])
            count += 1
    return {"rows": count, "sha256": writer.digest.hexdigest(), "columns": columns}

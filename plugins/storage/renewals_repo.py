"""Bulk reads and writes for the renewals sweep (``core.billing.ports.RenewalStore``).

The sweep renews a batch of subscriptions per transaction. Piccolo builds and runs one
statement per call, which at 100,000 renewals means millions of round trips; here each
kind of write is one ``executemany`` on the unit of work's own connection (asyncpg
pipelines it; SQLite runs it in one call), and each read is one ``IN (…)`` query.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from piccolo.engine.base import Engine

from core.audit import AuditEntry
from core.billing.ports import CreditAppend, DueSubscription, NewInvoice, RenewedSubscription
from core.ids import new_id
from core.proration.credit import CreditEntry, CreditLedger
from core.proration.invoice import Invoice

from .changes import note_change, subscription_scope
from .invoice_numbers import take_numbers
from .invoice_rows import lines_to_json
from .mapping import subscription_from_row, subscription_to_row
from .plain_sql import fetch_in
from .tables import CreditEntry as CreditRow
from .tables import Invoice as InvoiceRow
from .tables import Seat
from .tables import Subscription as SubscriptionRow

__all__ = ["PiccoloRenewalStore"]

_PLACEHOLDER = re.compile(r"\$\d+")


def _update_subscriptions_sql(columns: Sequence[str]) -> str:
    sets = ", ".join(f"{column} = ${i}" for i, column in enumerate(columns, start=1))
    n = len(columns)
    return (
        f"UPDATE subscription SET {sets}, seat_price = COALESCE(${n + 1}, seat_price), "
        f"updated_at = ${n + 2}, version = version + 1 WHERE id = ${n + 3}"
    )


_INSERT_INVOICE = (
    "INSERT INTO invoice (id, subscription_id, tenant_id, number, kind, issued_on, lines, total, "
    "credit_applied, amount_due, currency, status, idempotency_key, external_id, paid_at, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, $14, $15)"
)
# No ON CONFLICT: the sweep checked the keys under the subscriptions' locks, and a row
# skipped here would leave a hole in its account's numbers. A clash is a bug: it fails loudly.
_INSERT_CREDIT = (
    "INSERT INTO credit_entry (id, subscription_id, position, amount, reason, reference, on_date, "
    "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)
_INSERT_AUDIT = (
    "INSERT INTO audit_event (id, tenant_id, actor, action, subject, detail, at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)"
)


class PiccoloRenewalStore:
    def __init__(self, engine: Engine[Any]) -> None:
        self._engine = engine
        self._postgres = engine.engine_type == "postgres"

    def _transaction(self) -> Any:
        transaction = self._engine.current_transaction.get()
        if transaction is None:
            raise RuntimeError("the renewal store works inside a write unit of work")
        return transaction

    async def _many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        transaction = self._transaction()
        if self._postgres:
            await transaction.connection.executemany(sql, rows)
        else:
            # SQLite takes "?" in the same order; Piccolo's adapters turn dates into text.
            await transaction.connection.executemany(_PLACEHOLDER.sub("?", sql), rows)

    async def lock(self, subscription_ids: Sequence[str], *, skip_locked: bool) -> list[DueSubscription]:
        if not subscription_ids:
            return []
        sql = "SELECT * FROM subscription WHERE id IN ({in}) ORDER BY id"
        if self._postgres:
            # asyncpg prepares and caches these statements; after five runs PostgreSQL may keep a
            # generic plan made while the invoice table was nearly empty (a sequential scan) and
            # use it when the sweep has written 100,000 invoices. Plan each with its values.
            await self._transaction().connection.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            # In id order, so two sweeps that wait for each other cannot deadlock. (On SQLite
            # the write unit of work already holds the database's write lock.)
            sql += " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE"
        rows = await fetch_in(SubscriptionRow, sql, subscription_ids)
        return [DueSubscription(row["id"], subscription_from_row(row), row["currency"]) for row in rows]

    async def seats_held(self, subscription_ids: Sequence[str]) -> dict[str, int]:
        if not subscription_ids:
            return {}
        rows = await fetch_in(
            Seat, "SELECT subscription_id, count(*) AS held FROM seat WHERE subscription_id IN ({in}) "
            "GROUP BY subscription_id", subscription_ids,
        )
        return {row["subscription_id"]: int(row["held"]) for row in rows}

    async def existing_invoice_keys(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        rows = await fetch_in(
            InvoiceRow, "SELECT idempotency_key FROM invoice WHERE idempotency_key IN ({in})", keys
        )
        return {row["idempotency_key"] for row in rows}

    async def ledgers(self, currencies: dict[str, str]) -> dict[str, CreditLedger]:
        if not currencies:
            return {}
        rows = await fetch_in(
            CreditRow, "SELECT subscription_id, amount, reason, reference, on_date FROM credit_entry "
            "WHERE subscription_id IN ({in}) ORDER BY subscription_id, position", list(currencies),
        )
        entries: dict[str, list[CreditEntry]] = {}
        for r in rows:
            entries.setdefault(r["subscription_id"], []).append(
                CreditEntry(int(r["amount"]), r["reason"], r["reference"], r["on_date"])
            )
        return {
            sub_id: CreditLedger(tuple(entries.get(sub_id, ())), currency)
            for sub_id, currency in currencies.items()
        }

    async def save(self, saved: Sequence[RenewedSubscription], at: datetime) -> None:
        if not saved:
            return
        columns = tuple(subscription_to_row(saved[0].subscription))
        rows = []
        for one in saved:
            note_change(subscription_scope(one.subscription_id))
            values = subscription_to_row(one.subscription)
            rows.append((*(values[c] for c in columns), one.seat_price, at, one.subscription_id))
        await self._many(_update_subscriptions_sql(columns), rows)

    async def add_invoices(
        self, invoices: Sequence[NewInvoice], *, kind: str, at: datetime
    ) -> list[Invoice]:
        # The batch's numbers in one statement: each account takes as many as it has invoices
        # here and numbers them in the order given (a catching-up account's periods in order).
        counts = Counter(new.subscription_id for new in invoices)
        last = await take_numbers(dict(counts))
        given: dict[str, int] = {}
        numbered: list[Invoice] = []
        for new in invoices:
            sub_id = new.subscription_id
            given[sub_id] = given.get(sub_id, 0) + 1
            numbered.append(replace(new.invoice, number=last[sub_id] - counts[sub_id] + given[sub_id]))
        await self._many(_INSERT_INVOICE, [
            (
                invoice.id, new.subscription_id, new.tenant_id, invoice.number, kind, invoice.issued_on,
                lines_to_json(invoice.lines), invoice.total, invoice.credit_applied,
                invoice.amount_due, invoice.currency, invoice.status, new.idempotency_key,
                at if invoice.status == "paid" else None, at,
            )
            for new, invoice in zip(invoices, numbered, strict=True)
        ])
        return numbered

    async def append_credit(self, entries: Sequence[CreditAppend], at: datetime) -> None:
        await self._many(_INSERT_CREDIT, [
            (
                new_id(), one.subscription_id, one.position, one.entry.amount, one.entry.reason[:64],
                one.entry.reference[:200], one.entry.on, at,
            )
            for one in entries
        ])

    async def audit(self, entries: Sequence[AuditEntry], at: datetime) -> None:
        await self._many(_INSERT_AUDIT, [
            (
                new_id(), e.tenant_id, e.actor, e.action, e.subject,
                json.dumps(e.detail, sort_keys=True, default=str), at,
            )
            for e in entries
        ])

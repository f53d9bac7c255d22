"""Piccolo table class for idempotency keys (DDL in ``migrations/m0009_idempotency_keys.py``)."""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["IDEMPOTENCY_TABLES", "IdempotencyKeyRow"]


class IdempotencyKeyRow(Table, tablename="idempotency_key"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    idempotency_key = Varchar(length=255)
    method = Varchar(length=16)
    path = Text()
    body_digest = Varchar(length=64)
    claim = Varchar(length=32)
    claimed_at = Timestamptz()
    created_at = Timestamptz()
    completed_at = Timestamptz(null=True, default=None)
    status = Integer(null=True, default=None)
    headers = Text(null=True, default=None)
    body = Text(null=True, default=None)


IDEMPOTENCY_TABLES: tuple[type[Table], ...] = (IdempotencyKeyRow,)

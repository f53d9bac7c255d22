"""Piccolo table class for background worklog imports (DDL in
``migrations/m0026_explorer_views.py``)."""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["IMPORT_JOB_TABLES", "ImportJobRow"]


class ImportJobRow(Table, tablename="worklog_import_job"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    state = Varchar(length=16)
    done = Integer(default=0)
    total = Integer(default=0)
    imported = Integer(default=0)
    #: JSON ``[{line, reason}]`` of a refused import (capped).
    errors = Text(default="[]")
    created_at = Timestamptz()
    updated_at = Timestamptz()


IMPORT_JOB_TABLES: tuple[type[Table], ...] = (ImportJobRow,)

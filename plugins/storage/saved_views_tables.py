"""Piccolo table class for saved Times Explorer views (DDL in
``migrations/m0026_explorer_views.py``)."""

from __future__ import annotations

from piccolo.columns import Text, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["SAVED_VIEW_TABLES", "SavedViewRow"]


class SavedViewRow(Table, tablename="explorer_view"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    name = Varchar(length=100)
    #: The name as compared: unique per user (an index), so two saves racing cannot both land.
    name_key = Varchar(length=100)
    #: JSON: ``{"filters": {...}, "columns": [...], "group_by": [...]}``.
    body = Text()
    created_at = Timestamptz()


SAVED_VIEW_TABLES: tuple[type[Table], ...] = (SavedViewRow,)

"""One tenant's saved Times Explorer views; every query filters on the tenant and the user."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from core.tracking.saved_views import SavedView, view_name_key

from .plain_sql import Sql, fetch
from .saved_views_tables import SavedViewRow

__all__ = ["PiccoloSavedViewStore"]

# ON CONFLICT on the (tenant, user, name key) index: a name taken, even by a save racing
# this one, stores nothing and returns no row.
_INSERT = Sql(
    "INSERT INTO explorer_view (id, tenant_id, user_id, name, name_key, body, created_at) "
    "VALUES ({}, {}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING RETURNING id"
)


def _when(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _view(row: dict[str, Any]) -> SavedView:
    body = json.loads(row["body"])
    return SavedView(
        id=row["id"], user_id=row["user_id"], name=row["name"],
        filters={str(k): str(v) for k, v in body.get("filters", {}).items()},
        columns=tuple(body.get("columns", ())), group_by=tuple(body.get("group_by", ())),
        created_at=_when(row["created_at"]),
    )


class PiccoloSavedViewStore:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    async def views(self, user_id: str) -> list[SavedView]:
        rows = await SavedViewRow.select().where(
            (SavedViewRow.tenant_id == self.tenant_id) & (SavedViewRow.user_id == user_id)
        )
        return sorted((_view(row) for row in rows), key=lambda v: (view_name_key(v.name), v.id))

    async def add(self, view: SavedView) -> bool:
        body = json.dumps({"filters": dict(view.filters), "columns": list(view.columns),
                           "group_by": list(view.group_by)})
        rows = await fetch(SavedViewRow, _INSERT, view.id, self.tenant_id, view.user_id, view.name,
                           view_name_key(view.name), body, view.created_at)
        return bool(rows)

    async def delete(self, user_id: str, view_id: str) -> bool:
        where = ((SavedViewRow.tenant_id == self.tenant_id) & (SavedViewRow.user_id == user_id)
                 & (SavedViewRow.id == view_id))
        if not await SavedViewRow.exists().where(where):
            return False
        await SavedViewRow.delete().where(where)
        return True

"""In-memory saved Times Explorer views, as ``plugins/storage/saved_views_repo.py`` keeps them:
each user's own, by name; a name the user has used already (case-folded) stores nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.tracking.saved_views import SavedView, view_name_key

if TYPE_CHECKING:
    from tests.fakes.unit_of_work import FakeDatabase

__all__ = ["FakeSavedViewStore"]


class FakeSavedViewStore:
    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    def _views(self) -> dict[str, SavedView]:
        return self._store.saved_views.setdefault(self.tenant_id, {})

    async def views(self, user_id: str) -> list[SavedView]:
        mine = [view for view in self._views().values() if view.user_id == user_id]
        return sorted(mine, key=lambda v: (view_name_key(v.name), v.id))

    async def add(self, view: SavedView) -> bool:
        self._store.check_write("save a view")
        key = view_name_key(view.name)
        if any(v.user_id == view.user_id and view_name_key(v.name) == key for v in self._views().values()):
            return False
        self._views()[view.id] = view
        return True

    async def delete(self, user_id: str, view_id: str) -> bool:
        self._store.check_write("delete a view")
        view = self._views().get(view_id)
        if view is None or view.user_id != user_id:
            return False
        del self._views()[view_id]
        return True

"""The Times Explorer's saved views (``explorer.py`` is the page): save the current view's
filters, columns and grouping under a name, and delete one. A view opens by its address.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar import Controller, Request, Response, post
from litestar.params import FromPath

from core.services.saved_views import delete_view, save_view

from ..api.explorer_views import check_view_filters
from .explorer import (
    api_filters,
    back_query,
    columns_of,
    group_by_of,
    open_explorer,
    to_explorer,
    view_query,
)
from .render import stint_of, zone_of

__all__ = ["ExplorerViewsPageController"]


class ExplorerViewsPageController(Controller):
    path = "/explorer"
    include_in_schema = False

    @post("/views", status_code=200)
    async def save(self, request: Request[Any, Any, Any]) -> Response[Any]:
        page = await open_explorer(request)
        stint = stint_of(request)
        form = await request.form()
        query = _Query(parse_qsl(str(form.get("query") or "")[:20_000]))
        found, columns, group_by = api_filters(query), columns_of(query), group_by_of(query)
        check_view_filters(found, await zone_of(request, page))
        view = await save_view(stint.uow, stint.clock, tenant=page.principal.tenant, user=page.principal.user,
                               name=str(form.get("name") or ""), filters=found, columns=columns,
                               group_by=group_by)
        return to_explorer(request, view_query(found, columns, group_by), f"View {view.name!r} saved.")

    @post("/views/{view_id:str}/delete", status_code=200)
    async def delete_saved(self, request: Request[Any, Any, Any], view_id: FromPath[str]) -> Response[Any]:
        page = await open_explorer(request)
        stint = stint_of(request)
        form = await request.form()
        await delete_view(stint.uow, tenant=page.principal.tenant, user=page.principal.user, view_id=view_id)
        return to_explorer(request, back_query(str(form.get("back") or "")), "View deleted.")


class _Query(dict[str, Any]):
    """Parsed ``key=value`` pairs that answer ``getall`` like the request's query."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        self._pairs = pairs
        for key, value in pairs:
            self.setdefault(key, value)

    def getall(self, name: str, default: list[str]) -> list[str]:
        return [v for k, v in self._pairs if k == name] or default

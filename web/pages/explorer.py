"""``/explorer``: the Times Explorer page (issue #17) — everyone's worklogs filtered, grouped
with subtotals or listed a page at a time with the columns the user picks; rows selected
for a bulk change (billable, activity type, budget, delete) after a confirmation that
states the count; saved views; export of exactly the current view, and import.

The filters are the query of ``GET /api/v1/worklogs/all`` and live in the URL (a plain GET
form), so a view is shareable by its address. Every list, group, change and file goes
through the API's own use cases and the same access decision: Product, Budget and
Administrators open the page; others get the locked door.

This module holds the list (or the groups) and its export, and what the page's other
modules share: reading the view from its address, the door, the way back. The bulk change
and the import are ``explorer_batch.py``'s; the saved views ``explorer_saved_views.py``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from core.errors import AccessDenied
from core.licensing.access import Action
from core.licensing.roles import Permission, Role, role_allows
from core.services.explorer import ExplorerFilters, explore_worklogs, export_explored
from core.services.explorer_grouping import group_explored
from core.services.explorer_page import ExplorerChoices, explorer_choices, explorer_rows
from core.services.planning import work_item_titles
from core.services.saved_views import list_views
from core.texts import N_
from core.tracking import WeekStatus, write_csv
from core.tracking.explorer import WorklogGroup, parse_group_by
from core.tracking.rows import XLSX_MEDIA_TYPE
from core.tracking.saved_views import COLUMNS, FILTERS
from plugins.i18n import gettext

from ..api.explorer_views import check_view_filters
from ..api.worklog_answers import decode_cursor, encode_cursor
from ..api.worklog_filters import explorer_filters
from .render import Page, current_page, is_htmx, open_page, render, stint_of, zone_of

__all__ = [
    "ExplorerPageController",
    "back_query",
    "columns_of",
    "group_by_of",
    "labels_of",
    "open_explorer",
    "to_explorer",
]

#: What each column is called on the page (English msgids: the template translates them).
COLUMN_NAMES = {
    "date": N_("Date"), "user": N_("User"), "work_item": N_("Work item"), "iteration": N_("Iteration"),
    "activity_type": N_("Activity type"), "budget": N_("Budget"), "length": N_("Length"),
    "billable": N_("Billable"), "amount": N_("Amount"), "approval": N_("Approval state"),
    "created": N_("Created"), "edited": N_("Edited"), "comment": N_("Comment"),
}
#: Shown when the URL names no columns.
DEFAULT_COLUMNS = ("date", "user", "work_item", "activity_type", "budget", "length", "billable", "amount")
GROUP_NAMES = {
    "user": N_("User"), "work_item": N_("Work item"), "iteration": N_("Iteration"),
    "activity_type": N_("Activity type"), "budget": N_("Budget"), "day": N_("Day"), "week": N_("Week"),
    "month": N_("Month"),
}
#: Filters that take several values (comma-separated in the API, repeated or comma-separated here).
LIST_FILTERS = ("users", "work_items", "iterations", "budgets", "activity_types", "approval")
PAGE_SIZE = 50
#: Bulk actions and what the confirmation says they do.
BULK_ACTIONS = {
    "billable": "set billable (the whole length)",
    "not_billable": "set not billable",
    "activity_type": "set the activity type of",
    "budget": "assign to a budget",
    "unassign_budget": "remove the own budget assignment of",
    "delete": "delete",
}
_MAX_VALUE = 4000


def _values(query: Mapping[str, Any], name: str) -> list[str]:
    """Every value of ``name``: repeated parameters and comma-separated ones alike."""
    raw = query.getall(name, []) if hasattr(query, "getall") else [query.get(name) or ""]
    out: list[str] = []
    for value in raw:
        for part in str(value)[:_MAX_VALUE].split(","):
            if part.strip() and part.strip() not in out:
                out.append(part.strip())
    return out


def api_filters(query: Mapping[str, Any]) -> dict[str, str]:
    """The URL's filters as ``GET /worklogs/all`` takes them (lists comma-separated), blanks dropped."""
    found: dict[str, str] = {}
    for name in FILTERS:
        values = _values(query, name)
        if values:
            found[name] = ",".join(values) if name in LIST_FILTERS else values[-1]
    return found


def _filters(found: Mapping[str, str], time_zone: str) -> ExplorerFilters:
    check_view_filters(found, time_zone)  # the same checks as a saved view's: 422 naming the field
    billable = found.get("billable")
    return explorer_filters(
        time_zone, users=found.get("users"), start=found.get("from"), end=found.get("to"),
        work_items=found.get("work_items"), iterations=found.get("iterations"), budgets=found.get("budgets"),
        activity_types=found.get("activity_types"),
        billable=None if billable is None else billable.lower() == "true",
        created_from=found.get("created_from"), created_to=found.get("created_to"),
        edited_since=found.get("edited_since"), approval=found.get("approval"),
        descending=found.get("sort") == "-started_at",
    )


def columns_of(query: Mapping[str, Any]) -> list[str]:
    picked = [c for c in _values(query, "columns") if c in COLUMNS]
    return [c for c in COLUMNS if c in picked] if picked else list(DEFAULT_COLUMNS)


def group_by_of(query: Mapping[str, Any]) -> list[str]:
    levels = _values(query, "group_by")
    return [level.value for level in parse_group_by(",".join(levels))] if levels else []


def view_query(filters: Mapping[str, str], columns: list[str], group_by: list[str]) -> str:
    """The page's address for these filters, columns and grouping (what a view opens)."""
    pairs = [*filters.items(), *(("columns", c) for c in columns), *(("group_by", g) for g in group_by)]
    return urlencode(pairs)


async def open_explorer(request: Request[Any, Any, Any], action: Action | None = None) -> Page:
    """The page for Product, Budget and Administrators; ``action`` as well when it changes things."""
    page = await open_page(request, Action.VIEW_ALL_WORKLOGS)
    if action is not None:
        page = await open_page(request, action)
    return page


def labels_of(choices: ExplorerChoices) -> dict[str, dict[Any, str]]:
    return {
        "user_id": {u.id: u.name or u.email for u in choices.users},
        "iteration_id": {i.id: i.path for i in choices.iterations},
        "budget_id": {b.id: b.name for b in choices.budgets},
        "activity_type_id": {a.id: a.name for a in choices.activity_types},
    }


def _group_label(key: Mapping[str, Any], labels: Mapping[str, Mapping[Any, str]]) -> str:
    [(name, value)] = key.items()
    if value is None:
        return gettext("(none)")
    if name == "work_item":
        return labels.get(name, {}).get(str(value), f"#{value}")
    return labels.get(name, {}).get(value, str(value))


def _flatten(groups: list[WorklogGroup], labels: Mapping[str, Mapping[Any, str]]) -> list[dict[str, Any]]:
    """The groups as table rows: each first-level group, then its subgroups indented."""
    rows = []
    for group in groups:
        rows.append({"level": 1, "label": _group_label(group.key, labels), "group": group})
        for sub in group.groups or []:
            rows.append({"level": 2, "label": _group_label(sub.key, labels), "group": sub})
    return rows


async def _context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    tenant = page.principal.tenant
    query = request.query_params
    zone = await zone_of(request, page)
    found = api_filters(query)
    filters = _filters(found, zone)
    columns, group_by = columns_of(query), group_by_of(query)
    choices = await explorer_choices(stint.uow, tenant=tenant)
    labels = labels_of(choices)
    context: dict[str, Any] = {
        "filters": found, "columns": columns, "group_by": group_by, "choices": choices,
        "column_names": COLUMN_NAMES, "group_names": GROUP_NAMES, "all_columns": COLUMNS,
        "states": [s.value for s in WeekStatus], "picked": {n: _values(query, n) for n in LIST_FILTERS},
        "here": view_query(found, columns, group_by), "filter_query": urlencode(found),
        "views": await list_views(stint.uow, tenant=tenant, user=page.principal.user),
        "view_query": lambda v: view_query(v.filters, list(v.columns), list(v.group_by)),
        "bulk_actions": BULK_ACTIONS, "done": query.get("done"),
        "may_manage_budgets": role_allows(
            Role(page.principal.user.effective_role(tenant.default_role)), Permission.MANAGE_BUDGETS),
        "groups": None, "rows": [], "next_cursor": None,
    }
    if group_by:
        groups = await group_explored(stint.uow, tenant=tenant, filters=filters,
                                      levels=parse_group_by(",".join(group_by)), time_zone=zone,
                                      cache=page.principal.cache or stint.access_cache)
        items = {str(g.key.get("work_item")) for top in groups for g in [top, *(top.groups or [])]
                 if g.key.get("work_item") is not None}
        titles = await work_item_titles(stint.uow, tenant=tenant, names=items)
        labels["work_item"] = {item: f"#{item} {title}" for item, title in titles.items()}
        context["groups"] = _flatten(groups, labels)
        context["grand"] = {
            "tracked_s": sum(g.tracked_s for g in groups), "billable_s": sum(g.billable_s for g in groups),
            "amount": sum(g.amount.amount for g in groups),
            "currency": groups[0].amount.currency if groups else "",
        }
    else:
        cursor = query.get("cursor") or ""
        after = decode_cursor(cursor) if cursor else None
        worklogs = await explore_worklogs(stint.uow, tenant=tenant, filters=filters, after=after,
                                          limit=PAGE_SIZE + 1)
        shown = worklogs[:PAGE_SIZE]
        context["rows"] = await explorer_rows(stint.uow, tenant=tenant, worklogs=shown)
        if len(worklogs) > PAGE_SIZE:
            context["next_cursor"] = encode_cursor(shown[-1])
    return page.context(active="explorer", zone=zone, **context, **extra)


def back_query(text: str) -> str:
    """The explorer's own query string to go back to (never another address)."""
    return urlencode([(k, v) for k, v in parse_qsl(text[:20_000]) if k not in ("done", "cursor")])


class ExplorerPageController(Controller):
    path = "/explorer"
    include_in_schema = False

    @get("/", name="explorer")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        try:
            page = await open_explorer(request)
        except AccessDenied as refused:
            here = current_page(request)
            if refused.reason != "not_permitted" or here is None or is_htmx(request):
                raise
            # A role below Product: the locked door, saying which roles open this one.
            return Template(template_name="locked.html", status_code=403, context=here.context(
                door="The Times Explorer is for the Product, Budget and Administrator roles."))
        context = await _context(request, page)
        partial = "explorer/_rows.html" if request.query_params.get("cursor") else None
        return render(request, "explorer/index.html", partial, context)

    @get("/export")
    async def export(
        self, request: Request[Any, Any, Any],
        format: Annotated[Literal["csv", "xlsx"], QueryParameter()] = "csv",
    ) -> Response[bytes]:
        """Exactly the current view's worklogs, as the API's export writes them."""
        page = await open_explorer(request, Action.EXPORT_ALL)
        stint = stint_of(request)
        zone = await zone_of(request, page)
        filters = _filters(api_filters(request.query_params), zone)
        rows = await export_explored(stint.uow, tenant=page.principal.tenant, filters=filters,
                                     time_zone=zone)
        if format == "xlsx":
            content, media_type = stint.spreadsheets.write(rows), XLSX_MEDIA_TYPE
        else:
            content, media_type = write_csv(rows).encode("utf-8-sig"), "text/csv"
        disposition = f'attachment; filename="worklogs.{format}"'
        return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


def to_explorer(request: Request[Any, Any, Any], query: str, done: str) -> Response[Any]:
    """Back to the explorer's view with a message: htmx reloads the page there, a form redirects."""
    target = "/explorer/?" + "&".join(p for p in (query, urlencode({"done": done})) if p)
    if is_htmx(request):
        return Response(None, status_code=200, headers={"HX-Redirect": target})
    return Redirect(target, status_code=303)

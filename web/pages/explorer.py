"""``/explorer``: the Times Explorer page (issue #17) — everyone's worklogs filtered, grouped
with subtotals or listed a page at a time with the columns the user picks; rows selected
for a bulk change (billable, activity type, budget, delete) after a confirmation that
states the count; saved views; export of exactly the current view, and import.

The filters are the query of ``GET /api/v1/worklogs/all`` and live in the URL (a plain GET
form), so a view is shareable by its address. Every list, group, change and file goes
through the API's own use cases and the same access decision: Product, Budget and
Administrators open the page; others get the locked door.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from core.errors import AccessDenied, ValidationFailed
from core.licensing.access import Action
from core.licensing.roles import Permission, Role, role_allows
from core.services.explorer import ExplorerFilters, explore_worklogs, export_explored
from core.services.explorer_grouping import group_explored
from core.services.explorer_page import ExplorerChoices, explorer_choices, explorer_rows
from core.services.import_jobs import BACKGROUND_ROWS, import_status, run_import, start_import
from core.services.planning import work_item_titles
from core.services.saved_views import delete_view, list_views, save_view
from core.services.tracking_common import user_zone
from core.services.worklog_batch_edit import BatchChanges, update_worklogs
from core.services.worklog_batches import MAX_BATCH, delete_worklogs
from core.services.worklog_import import ImportRejected, import_worklogs
from core.tracking import WeekStatus, write_csv
from core.tracking.explorer import WorklogGroup, parse_group_by
from core.tracking.rows import XLSX_MEDIA_TYPE
from core.tracking.saved_views import COLUMNS, FILTERS
from plugins.i18n import gettext, ngettext

from ..api.explorer_views import check_view_filters
from ..api.import_jobs import in_background
from ..api.worklog_access import is_admin
from ..api.worklog_answers import decode_cursor, encode_cursor
from ..api.worklog_files import _decoded
from ..api.worklog_filters import explorer_filters
from .render import Page, current_page, is_htmx, open_page, render, stint_of

__all__ = ["ExplorerPageController"]

#: What each column is called on the page.
COLUMN_NAMES = {
    "date": "Date", "user": "User", "work_item": "Work item", "iteration": "Iteration",
    "activity_type": "Activity type", "budget": "Budget", "length": "Length", "billable": "Billable",
    "amount": "Amount", "approval": "Approval state", "created": "Created", "edited": "Edited",
    "comment": "Comment",
}
#: Shown when the URL names no columns.
DEFAULT_COLUMNS = ("date", "user", "work_item", "activity_type", "budget", "length", "billable", "amount")
GROUP_NAMES = {
    "user": "User", "work_item": "Work item", "iteration": "Iteration", "activity_type": "Activity type",
    "budget": "Budget", "day": "Day", "week": "Week", "month": "Month",
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


def _columns(query: Mapping[str, Any]) -> list[str]:
    picked = [c for c in _values(query, "columns") if c in COLUMNS]
    return [c for c in COLUMNS if c in picked] if picked else list(DEFAULT_COLUMNS)


def _group_by(query: Mapping[str, Any]) -> list[str]:
    levels = _values(query, "group_by")
    return [level.value for level in parse_group_by(",".join(levels))] if levels else []


def view_query(filters: Mapping[str, str], columns: list[str], group_by: list[str]) -> str:
    """The page's address for these filters, columns and grouping (what a view opens)."""
    pairs = [*filters.items(), *(("columns", c) for c in columns), *(("group_by", g) for g in group_by)]
    return urlencode(pairs)


async def _zone(request: Request[Any, Any, Any], page: Page) -> str:
    stint = stint_of(request)
    async with stint.uow() as work:
        repo = work.tenant(page.principal.tenant.id).tracking()
        return await user_zone(repo, page.principal.tenant, page.principal.user.id)


async def _open(request: Request[Any, Any, Any], action: Action | None = None) -> Page:
    """The page for Product, Budget and Administrators; ``action`` as well when it changes things."""
    page = await open_page(request, Action.VIEW_ALL_WORKLOGS)
    if action is not None:
        page = await open_page(request, action)
    return page


def _labels(choices: ExplorerChoices) -> dict[str, dict[Any, str]]:
    return {
        "user_id": {u.id: u.name or u.email for u in choices.users},
        "iteration_id": {i.id: i.path for i in choices.iterations},
        "budget_id": {b.id: b.name for b in choices.budgets},
        "activity_type_id": {a.id: a.name for a in choices.activity_types},
    }


def _group_label(key: Mapping[str, Any], labels: Mapping[str, Mapping[Any, str]]) -> str:
    [(name, value)] = key.items()
    if value is None:
        return "(none)"
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
    zone = await _zone(request, page)
    found = api_filters(query)
    filters = _filters(found, zone)
    columns, group_by = _columns(query), _group_by(query)
    choices = await explorer_choices(stint.uow, tenant=tenant)
    labels = _labels(choices)
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


def _bulk_changes(action: str, form: Mapping[str, Any]) -> BatchChanges:
    if action == "billable":
        return BatchChanges(billable=True)
    if action == "not_billable":
        return BatchChanges(billable=False)
    if action == "activity_type":
        chosen = str(form.get("activity_type_id") or "")
        return BatchChanges(activity_type_id=chosen or None)
    if action == "budget":
        chosen = str(form.get("budget_id") or "")
        if not chosen:
            raise ValidationFailed("pick the budget to assign", field="budget_id")
        return BatchChanges(budget_id=chosen)
    return BatchChanges(budget_id=None)


def _back(text: str) -> str:
    """The explorer's own query string to go back to (never another address)."""
    return urlencode([(k, v) for k, v in parse_qsl(text[:20_000]) if k not in ("done", "cursor")])


class ExplorerPageController(Controller):
    path = "/explorer"
    include_in_schema = False

    @get("/", name="explorer")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        try:
            page = await _open(request)
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

    @post("/bulk", status_code=200)
    async def bulk(self, request: Request[Any, Any, Any]) -> Template | Response[Any]:
        """First a confirmation stating the count; with ``confirm=yes`` the change, then back."""
        form = await request.form()
        action = str(form.get("action") or "")
        if action not in BULK_ACTIONS:
            raise ValidationFailed("pick what to do with the selected worklogs", field="action")
        page = await _open(request, Action.MANAGE_BUDGETS if "budget" in action else Action.EDIT_OWN_WORKLOGS)
        ids = list(dict.fromkeys(str(i) for i in form.getall("ids", []) if i))[: MAX_BATCH + 1]
        if not ids:
            raise ValidationFailed("select at least one worklog", field="ids")
        changes = None if action == "delete" else _bulk_changes(action, form)
        back = _back(str(form.get("back") or ""))
        if form.get("confirm") != "yes":
            stint = stint_of(request)
            choices = await explorer_choices(stint.uow, tenant=page.principal.tenant)
            labels = _labels(choices)
            target = ""
            if action == "activity_type":
                chosen = str(form.get("activity_type_id") or "")
                target = labels["activity_type_id"].get(chosen, "no activity type")
            elif action == "budget":
                target = labels["budget_id"].get(str(form.get("budget_id") or ""), "")
            context = page.context(
                active="explorer", ids=ids, action=action, what=BULK_ACTIONS[action], target=target,
                count=len(ids), back=back, activity_type_id=form.get("activity_type_id") or "",
                budget_id=form.get("budget_id") or "",
            )
            return render(request, "explorer/confirm.html", "explorer/_confirm.html", context)
        stint = stint_of(request)
        principal = page.principal
        tenant, actor = principal.tenant, principal.user
        if changes is None:
            count = await delete_worklogs(stint.uow, stint.clock, tenant=tenant, actor=actor,
                                          ids=ids, actor_can_edit_others=is_admin(principal))
            done = gettext("%(count)s worklog(s) deleted.", count=count)
        else:
            count = await update_worklogs(stint.uow, stint.clock, tenant=tenant, actor=actor,
                                          ids=ids, changes=changes, actor_can_edit_others=is_admin(principal))
            done = ngettext("%(num)s worklog changed.", "%(num)s worklogs changed.", count)
        return _to_explorer(request, back, done)

    @get("/export")
    async def export(
        self, request: Request[Any, Any, Any],
        format: Annotated[Literal["csv", "xlsx"], QueryParameter()] = "csv",
    ) -> Response[bytes]:
        """Exactly the current view's worklogs, as the API's export writes them."""
        page = await _open(request, Action.EXPORT_ALL)
        stint = stint_of(request)
        zone = await _zone(request, page)
        filters = _filters(api_filters(request.query_params), zone)
        rows = await export_explored(stint.uow, tenant=page.principal.tenant, filters=filters,
                                     time_zone=zone)
        if format == "xlsx":
            content, media_type = stint.spreadsheets.write(rows), XLSX_MEDIA_TYPE
        else:
            content, media_type = write_csv(rows).encode("utf-8-sig"), "text/csv"
        disposition = f'attachment; filename="worklogs.{format}"'
        return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})

    @post("/import", status_code=200)
    async def import_(self, request: Request[Any, Any, Any]) -> Template | Response[Any]:
        """The API's import (all or nothing); a refused file shows every bad line."""
        page = await _open(request, Action.EDIT_OWN_WORKLOGS)
        stint = stint_of(request)
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("choose a CSV or Excel file to import", field="file")
        data = await upload.read()
        if not data:
            raise ValidationFailed("the file is empty", field="file")
        principal = page.principal
        try:
            rows = await _decoded(stint, data, upload.filename or "", (upload.content_type or "").lower())
            if len(rows) > BACKGROUND_ROWS:
                # A big file: checked and stored in the background while a progress bar shows how far.
                job = await start_import(stint.uow, stint.clock, tenant=principal.tenant,
                                         actor=principal.user, total=len(rows))
                in_background(run_import(
                    stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, job=job, rows=rows,
                    may_import_for_others=is_admin(principal), time_zone=await _zone(request, page),
                ))
                context = page.context(active="explorer", job=job)
                return render(request, "explorer/import_progress.html", "explorer/_import_progress.html",
                              context, status_code=202)
            imported = await import_worklogs(
                stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, rows=rows,
                may_import_for_others=is_admin(principal), time_zone=await _zone(request, page),
            )
        except ImportRejected as refused:
            errors = refused.extra.get("errors") or [{"line": 1, "reason": refused.detail}]
            context = page.context(active="explorer", message=refused.detail, errors=errors[:1000],
                                   more=max(0, len(errors) - 1000))
            return render(request, "explorer/import_errors.html", "explorer/_import_errors.html", context,
                          status_code=422)
        except ValidationFailed as bad:
            line = int(bad.extra.get("line", 1))
            context = page.context(active="explorer", message=bad.detail,
                                   errors=[{"line": line, "reason": bad.detail}], more=0)
            return render(request, "explorer/import_errors.html", "explorer/_import_errors.html", context,
                          status_code=422)
        count = len(imported)
        return _to_explorer(request, _back(str(form.get("back") or "")),
                            f"{count} worklog{'' if count == 1 else 's'} imported.")

    @get("/import/{job_id:str}")
    async def import_progress(self, request: Request[Any, Any, Any], job_id: FromPath[str]) -> Template:
        """A background import's progress bar (htmx polls it), then its result or bad lines."""
        page = await _open(request, Action.EDIT_OWN_WORKLOGS)
        stint = stint_of(request)
        job = await import_status(stint.uow, tenant=page.principal.tenant, user=page.principal.user,
                                  job_id=job_id)
        context = page.context(active="explorer", job=job)
        return render(request, "explorer/import_progress.html", "explorer/_import_progress.html", context)

    @post("/views", status_code=200)
    async def save(self, request: Request[Any, Any, Any]) -> Response[Any]:
        page = await _open(request)
        stint = stint_of(request)
        form = await request.form()
        query = _Query(parse_qsl(str(form.get("query") or "")[:20_000]))
        found, columns, group_by = api_filters(query), _columns(query), _group_by(query)
        check_view_filters(found, await _zone(request, page))
        view = await save_view(stint.uow, stint.clock, tenant=page.principal.tenant, user=page.principal.user,
                               name=str(form.get("name") or ""), filters=found, columns=columns,
                               group_by=group_by)
        return _to_explorer(request, view_query(found, columns, group_by), f"View {view.name!r} saved.")

    @post("/views/{view_id:str}/delete", status_code=200)
    async def delete_saved(self, request: Request[Any, Any, Any], view_id: FromPath[str]) -> Response[Any]:
        page = await _open(request)
        stint = stint_of(request)
        form = await request.form()
        await delete_view(stint.uow, tenant=page.principal.tenant, user=page.principal.user, view_id=view_id)
        return _to_explorer(request, _back(str(form.get("back") or "")), "View deleted.")


class _Query(dict[str, Any]):
    """Parsed ``key=value`` pairs that answer ``getall`` like the request's query."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        self._pairs = pairs
        for key, value in pairs:
            self.setdefault(key, value)

    def getall(self, name: str, default: list[str]) -> list[str]:
        return [v for k, v in self._pairs if k == name] or default


def _to_explorer(request: Request[Any, Any, Any], query: str, done: str) -> Response[Any]:
    """Back to the explorer's view with a message: htmx reloads the page there, a form redirects."""
    target = "/explorer/?" + "&".join(p for p in (query, urlencode({"done": done})) if p)
    if is_htmx(request):
        return Response(None, status_code=200, headers={"HX-Redirect": target})
    return Redirect(target, status_code=303)

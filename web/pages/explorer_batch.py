"""The Times Explorer's writes to many worklogs at once (``explorer.py`` is the page): the
bulk change of the selected rows, first a confirmation stating the count, and the import
of a CSV or Excel file — all or nothing, a big file in the background with a progress bar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Template

from core.errors import ValidationFailed
from core.licensing.access import Action
from core.services.explorer_page import explorer_choices
from core.services.import_jobs import BACKGROUND_ROWS, import_status, run_import, start_import
from core.services.worklog_batch_edit import BatchChanges, update_worklogs
from core.services.worklog_batches import MAX_BATCH, delete_worklogs
from core.services.worklog_import import ImportRejected, import_worklogs
from plugins.i18n import gettext, ngettext

from ..api.import_jobs import in_background
from ..api.worklog_access import is_admin
from ..api.worklog_files import decoded_rows
from .explorer import BULK_ACTIONS, back_query, labels_of, open_explorer, to_explorer
from .render import render, stint_of, zone_of

__all__ = ["ExplorerBatchPageController"]


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


class ExplorerBatchPageController(Controller):
    path = "/explorer"
    include_in_schema = False

    @post("/bulk", status_code=200)
    async def bulk(self, request: Request[Any, Any, Any]) -> Template | Response[Any]:
        """First a confirmation stating the count; with ``confirm=yes`` the change, then back."""
        form = await request.form()
        action = str(form.get("action") or "")
        if action not in BULK_ACTIONS:
            raise ValidationFailed("pick what to do with the selected worklogs", field="action")
        page = await open_explorer(
            request, Action.MANAGE_BUDGETS if "budget" in action else Action.EDIT_OWN_WORKLOGS
        )
        ids = list(dict.fromkeys(str(i) for i in form.getall("ids", []) if i))[: MAX_BATCH + 1]
        if not ids:
            raise ValidationFailed("select at least one worklog", field="ids")
        changes = None if action == "delete" else _bulk_changes(action, form)
        back = back_query(str(form.get("back") or ""))
        if form.get("confirm") != "yes":
            stint = stint_of(request)
            choices = await explorer_choices(stint.uow, tenant=page.principal.tenant)
            labels = labels_of(choices)
            target = ""
            if action == "activity_type":
                chosen = str(form.get("activity_type_id") or "")
                target = labels["activity_type_id"].get(chosen, gettext("no activity type"))
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
        return to_explorer(request, back, done)

    @post("/import", status_code=200)
    async def import_(self, request: Request[Any, Any, Any]) -> Template | Response[Any]:
        """The API's import (all or nothing); a refused file shows every bad line."""
        page = await open_explorer(request, Action.EDIT_OWN_WORKLOGS)
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
            rows = await decoded_rows(stint, data, upload.filename or "", (upload.content_type or "").lower())
            if len(rows) > BACKGROUND_ROWS:
                # A big file: checked and stored in the background while a progress bar shows how far.
                job = await start_import(stint.uow, stint.clock, tenant=principal.tenant,
                                         actor=principal.user, total=len(rows))
                in_background(run_import(
                    stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, job=job, rows=rows,
                    may_import_for_others=is_admin(principal), time_zone=await zone_of(request, page),
                ))
                context = page.context(active="explorer", job=job)
                return render(request, "explorer/import_progress.html", "explorer/_import_progress.html",
                              context, status_code=202)
            imported = await import_worklogs(
                stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, rows=rows,
                may_import_for_others=is_admin(principal), time_zone=await zone_of(request, page),
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
        return to_explorer(request, back_query(str(form.get("back") or "")),
                            f"{count} worklog{'' if count == 1 else 's'} imported.")

    @get("/import/{job_id:str}")
    async def import_progress(self, request: Request[Any, Any, Any], job_id: FromPath[str]) -> Template:
        """A background import's progress bar (htmx polls it), then its result or bad lines."""
        page = await open_explorer(request, Action.EDIT_OWN_WORKLOGS)
        stint = stint_of(request)
        job = await import_status(stint.uow, tenant=page.principal.tenant, user=page.principal.user,
                                  job_id=job_id)
        context = page.context(active="explorer", job=job)
        return render(request, "explorer/import_progress.html", "explorer/_import_progress.html", context)

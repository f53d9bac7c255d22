"""A worklog's change history as a page fragment (issue #17): ``/explorer/worklogs/{id}/history``.

The Times Explorer links each worklog to this URL; htmx swaps the table in, a plain visit
gets it on a page of its own. Who may read it is the API's rule
(``GET /api/v1/worklogs/{id}/history``): the owner and whoever may see their worklogs,
anyone else gets the 404 a missing worklog gets.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from core.licensing.access import Action

from ..api.worklog_history import history_out, readable_history
from .render import open_page, render, stint_of

__all__ = ["WorklogHistoryPageController"]


class WorklogHistoryPageController(Controller):
    path = "/explorer/worklogs"

    @get("/{worklog_id:str}/history", name="worklog_history")
    async def history(self, request: Request[Any, Any, Any], worklog_id: FromPath[str]) -> Template:
        page = await open_page(request, Action.VIEW_OWN_TIMESHEET)
        # The whole history: a worklog is changed a handful of times, not thousands.
        history, _ = await readable_history(page.principal, stint_of(request), worklog_id)
        return render(
            request, "worklog_history/history.html", "worklog_history/_history.html",
            page.context(worklog_id=worklog_id, history=history_out(history).items),
        )

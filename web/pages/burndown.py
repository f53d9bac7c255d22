"""``/reports/burndown``: an iteration's burndown as a fragment of the Reports page.

The Reports page loads it with ``hx-get="/reports/burndown?iteration=…"``; an htmx request
gets the ``<section>`` alone, any other request the whole page (so the link works on its
own, JavaScript off). The chart is server-drawn SVG (``charts.line_chart``) with its title,
description and the same figures as a table; ``format=csv`` downloads that table. Who may:
whoever reads the work items (the API's ``GET /api/v1/iterations/{id}/burndown``).
"""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter
from litestar.response import Template

from core.errors import ValidationFailed
from core.licensing.access import Action
from core.services.burndown import iteration_burndown
from core.services.planning import list_iterations
from core.tracking import write_csv
from core.work_items import Iteration
from core.work_items.burndown import Burndown

from ..api.iterations import burndown_hours, iteration_path_id
from .charts import LineChart, line_chart
from .render import open_page, render, stint_of

__all__ = ["BURNDOWN_COLUMNS", "BurndownPageController", "burndown_rows"]

BURNDOWN_COLUMNS = ("day", "remaining_h", "completed_h", "ideal_h")


def _text(centihours: int | None) -> str:
    value = burndown_hours(centihours)
    return "" if value is None else f"{value:.2f}"


def burndown_rows(chart: Burndown) -> list[dict[str, str]]:
    """The table beside the chart, and the CSV: one row per day (a day to come: no actuals)."""
    return [
        {"day": d.day.isoformat(), "remaining_h": _text(d.remaining), "completed_h": _text(d.completed),
         "ideal_h": _text(d.ideal)}
        for d in chart.days
    ]


def _hours_label(centihours: int) -> str:
    return f"{Decimal(centihours).scaleb(-2):.2f} h"


def _drawing(chart: Burndown) -> LineChart | None:
    known = [d for d in chart.days if d.remaining is not None]
    if not known:
        return None  # the iteration has not started: nothing to draw yet
    return line_chart(
        [d.day for d in known], [d.remaining or 0 for d in known], axis_end=chart.days[-1].day,
        ideal_from=chart.days[0].ideal, label=_hours_label, second=[d.completed or 0 for d in known],
    )


def _default(iterations: list[Iteration], today: date) -> Iteration | None:
    """The iteration under way today, else the latest dated one that started."""
    dated = [it for it in iterations if it.start is not None and it.finish is not None]
    for it in dated:
        if it.start is not None and it.finish is not None and it.start <= today <= it.finish:
            return it
    started = [it for it in dated if it.start is not None and it.start <= today]
    return max(started, key=lambda it: (it.start, it.id), default=dated[0] if dated else None)


class BurndownPageController(Controller):
    path = "/reports/burndown"
    include_in_schema = False

    @get("/", name="report_burndown")
    async def show(
        self, request: Request[Any, Any, Any],
        iteration: Annotated[str, QueryParameter(max_length=20)] = "",
        format: Annotated[Literal["html", "csv"], QueryParameter()] = "html",
    ) -> Template | Response[bytes]:
        page = await open_page(request, Action.TRACK_TIME)
        stint = stint_of(request)
        tenant = page.principal.tenant
        iterations = await list_iterations(stint.uow, tenant=tenant)
        dated = [it for it in iterations if it.start is not None and it.finish is not None]
        if iteration:
            chosen: Iteration | None = None
            wanted = iteration_path_id(iteration)
            chosen = next((it for it in iterations if it.id == wanted), None)
            if chosen is None:
                raise ValidationFailed(f"there is no iteration {iteration}", field="iteration")
        else:
            chosen = _default(iterations, stint.clock.now().astimezone(UTC).date())
        chart = drawing = None
        rows: list[dict[str, str]] = []
        if chosen is not None:
            chart = await iteration_burndown(stint.uow, stint.clock, tenant=tenant, iteration_id=chosen.id)
            drawing, rows = _drawing(chart), burndown_rows(chart)
        if format == "csv":
            if chart is None:
                raise ValidationFailed("choose an iteration with a start and a finish date",
                                       field="iteration")
            content = write_csv(rows, BURNDOWN_COLUMNS).encode("utf-8-sig")
            disposition = f'attachment; filename="burndown-iteration-{chart.iteration.id}.csv"'
            return Response(content, media_type="text/csv", headers={"Content-Disposition": disposition})
        context = page.context(
            iterations=dated, chosen=chosen, chart=chart, drawing=drawing, rows=rows,
        )
        return render(request, "reports/burndown.html", "reports/_burndown.html", context)

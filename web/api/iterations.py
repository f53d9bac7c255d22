"""``/api/v1/iterations``: the tenant's iterations (listed, created in standalone mode) and an
iteration's burndown. Who may, and the ids' rules, as for the work items
(``work_items.py``, whose hours and query ids this module shares).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from core.errors import ValidationFailed
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.burndown import iteration_burndown
from core.services.planning import create_iteration, list_iterations
from core.work_items import Iteration, IterationNotFound
from core.work_items.burndown import Burndown

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import Strict, cursor_text, opaque_cursor
from .work_items import api_hours, query_id

__all__ = ["IterationsController", "burndown_hours", "burndown_out", "iteration_out", "iteration_path_id"]


class IterationOut(msgspec.Struct):
    id: int
    path: str
    start: date | None
    finish: date | None


class IterationPageOut(msgspec.Struct):
    items: list[IterationOut]
    next_cursor: str | None


class IterationIn(Strict):
    path: Annotated[str, msgspec.Meta(max_length=1000)]
    start: date | None = None
    finish: date | None = None


class BurndownDayOut(msgspec.Struct):
    day: date
    remaining_h: float | None
    """Remaining Work summed over the iteration's items that day; null for a day to come."""
    completed_h: float | None
    ideal_h: float


class BurndownOut(msgspec.Struct):
    iteration: IterationOut
    days: list[BurndownDayOut]


def burndown_hours(centihours: int | None) -> Decimal | None:
    """Hundredths of an hour as the decimal hours the API and pages show (exact)."""
    return None if centihours is None else Decimal(centihours).scaleb(-2)


def burndown_out(chart: Burndown) -> BurndownOut:
    return BurndownOut(
        iteration=iteration_out(chart.iteration),
        days=[
            BurndownDayOut(
                day.day, api_hours(burndown_hours(day.remaining)), api_hours(burndown_hours(day.completed)),
                float(Decimal(day.ideal).scaleb(-2)),
            )
            for day in chart.days
        ],
    )


def iteration_out(iteration: Iteration) -> IterationOut:
    return IterationOut(iteration.id, iteration.path, iteration.start, iteration.finish)


def iteration_path_id(text: str) -> int:
    """An iteration id from the path; anything but a positive integer names none (404)."""
    value = text.strip()
    if not (value.isascii() and value.isdecimal() and len(value) <= 18) or int(value) == 0:
        raise IterationNotFound(f"there is no iteration {text!r}")
    return int(value)


class IterationsController(Controller):
    path = "/iterations"
    tags = ("work items",)

    @get("/", summary="The tenant's iterations by start date (undated last), a page at a time",
         guards=[requires(Action.TRACK_TIME, Scope.TRACKING)])
    async def list(
        self, request: TenantRequest, stint: StintDep,
        cursor: Annotated[str, QueryParameter(max_length=200)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> IterationPageOut:
        every = await list_iterations(stint.uow, tenant=request.user.tenant)
        start = 0
        if cursor:
            # The cursor is the previous page's last iteration id; the order is by date, so
            # the page goes on after wherever that iteration stands now.
            last = query_id(cursor_text(cursor), "cursor")
            at = [n for n, it in enumerate(every) if it.id == last]
            if not at:
                raise ValidationFailed("this cursor did not come from a previous page", field="cursor")
            start = at[0] + 1
        page = every[start : start + limit]
        more = start + limit < len(every)
        return IterationPageOut(
            items=[iteration_out(it) for it in page],
            next_cursor=opaque_cursor(str(page[-1].id)) if more and page else None,
        )

    @post("/", summary="Create an iteration (standalone mode)",
          guards=[requires(Action.TRACK_TIME, Scope.WORKLOGS_WRITE)])
    async def create(
        self, request: TenantRequest, data: JSONBody[IterationIn], stint: StintDep
    ) -> IterationOut:
        iteration = await create_iteration(
            stint.uow, stint.clock, stint.devops.store, tenant=request.user.tenant, path=data.path,
            start=data.start, finish=data.finish,
        )
        return iteration_out(iteration)

    @get("/{iteration_id:str}/burndown",
         summary="An iteration's burndown: Remaining and Completed Work per day, and the ideal line",
         guards=[requires(Action.TRACK_TIME, Scope.TRACKING)])
    async def burndown(
        self, request: TenantRequest, iteration_id: FromPath[str], stint: StintDep
    ) -> BurndownOut:
        chart = await iteration_burndown(stint.uow, stint.clock, tenant=request.user.tenant,
                                         iteration_id=iteration_path_id(iteration_id))
        return burndown_out(chart)

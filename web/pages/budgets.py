"""``/budgets``: the Budgets pages — every visible budget with its burn bars, and one budget
with its facts, burn-down charts (server-drawn SVG with a table beside them), the
breakdowns, the monthly statement with its downloads, and for managers the forms that
create, edit, close/reopen and assign it.

Who may (docs/budgets.md): everyone with a timesheet opens the pages and sees the budgets
their own worklogs hit (their own time only); Product and above see every budget; the
Budget role and Administrators manage. The use cases are the API's
(``core.services.budgets``) plus the pages' read models (``core.services.budget_overview``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from core.budgets import BudgetChanges, BudgetDraft, seconds_to_hours
from core.errors import ValidationFailed
from core.licensing.access import Action
from core.licensing.roles import Permission, Role, role_allows
from core.money import format_minor
from core.services.budget_overview import BurnDown, budget_burndown, budgets_overview
from core.services.budget_usage import budget_statement, check_month, user_names
from core.services.budgets import Targets, add_budget, assign_budget, change_budget, unassign_budget
from core.tracking import write_csv
from core.tracking.rows import XLSX_MEDIA_TYPE
from plugins.i18n import gettext, ngettext

from ..api.budget_usage import STATEMENT_COLUMNS, STATEMENT_NUMBERS, statement_rows
from ..api.budgets import viewer_of
from .budget_forms import ID_SEPARATORS, AssignForm, BudgetForm, OpenForm, budget_fields, int_ids
from .charts import LineChart, burn_bar, line_chart
from .render import Page, is_htmx, open_page, render, stint_of

__all__ = ["BudgetsPageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)


def _hm(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    value = abs(seconds)
    return f"{sign}{value // 3600}:{value % 3600 // 60:02d}"


def _fmt_hours(seconds: int) -> str:
    return f"{_hm(seconds)} h"


def _fmt_money(currency: str) -> Any:
    return lambda minor: f"{format_minor(minor)} {currency}"


def _fmt_plain(minor: int) -> str:
    """Minor units as the money fields take them back: 1200.50 (no thousands separator)."""
    whole, part = divmod(minor, 100)
    return f"{whole}.{part:02d}"


def _fmt_limit_hours(seconds: int) -> str:
    """An hour limit as the form takes it back: 12.5 (limits are whole multiples of 36 s)."""
    return str(seconds_to_hours(seconds).normalize()) if seconds % 3600 else str(seconds // 3600)


def _formatters(default_currency: str) -> dict[str, Any]:
    return {"fmt_hours": _fmt_hours, "fmt_money": _fmt_money, "fmt_plain": _fmt_plain,
            "fmt_limit_hours": _fmt_limit_hours, "default_currency": default_currency}


def _may_manage(page: Page) -> bool:
    principal = page.principal
    role = Role(principal.user.effective_role(principal.tenant.default_role))
    return role_allows(role, Permission.MANAGE_BUDGETS)


def _bars(usage: Any, budget: Any) -> dict[str, Any]:
    """The burn bars of one budget (None where it has no such limit)."""
    hours = burn_bar(usage.tracked_s, budget.limit_s) if budget.limit_s is not None else None
    money = burn_bar(usage.amount.amount, budget.amount.amount) if budget.amount is not None else None
    return {"hours": hours, "money": money}


async def _list_context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    principal = page.principal
    viewer = viewer_of(principal)
    rows = await budgets_overview(stint.uow, tenant=principal.tenant, viewer=viewer)
    return page.context(
        active="budgets",
        # A Team user's figures are their own time: a bar against the limit would mislead.
        rows=[{"budget": r.budget, "usage": r.usage,
               "bars": _bars(r.usage, r.budget) if viewer.sees_all else {"hours": None, "money": None}}
              for r in rows],
        may_manage=_may_manage(page), sees_all=viewer.sees_all,
        **_formatters(next((r.budget.currency for r in rows if r.budget.currency), "USD")), **extra,
    )


def _charts(burn: BurnDown) -> list[dict[str, Any]]:
    """The burn-down charts: hours (and money) remaining when there is a limit, else used."""
    days = [d.day for d in burn.days]
    budget = burn.budget
    charts: list[dict[str, Any]] = []
    remaining = burn.sees_all
    if budget.limit_s is not None and remaining:
        values = [budget.limit_s - d.tracked_s for d in burn.days]
        charts.append({"id": "hours", "title": gettext("Hours remaining"), "values": values,
                       "limit": budget.limit_s, "label": _hm, "ideal": True})
    if budget.amount is not None and remaining:
        values = [budget.amount.amount - d.amount for d in burn.days]
        currency = burn.currency
        charts.append({"id": "money", "title": gettext("Money remaining (%(currency)s)", currency=currency),
                       "values": values, "limit": budget.amount.amount, "label": format_minor, "ideal": True})
    if not charts:
        title = gettext("Hours used") if remaining else gettext("Your hours on this budget")
        charts.append({"id": "used", "title": title, "values": [d.tracked_s for d in burn.days],
                       "limit": None, "label": _hm, "ideal": False})
    out = []
    for chart in charts:
        drawn: LineChart = line_chart(
            days, chart["values"], axis_end=burn.end, ideal_from=chart["limit"] if chart["ideal"] else None,
            label=chart["label"],
        )
        label = chart["label"]
        # The table beside the chart: the first day, every day something changed, and the last.
        rows = []
        previous = None
        for index, (day, value) in enumerate(zip(days, chart["values"], strict=True)):
            if index in (0, len(days) - 1) or value != previous:
                rows.append((day, label(value)))
            previous = value
        out.append({**chart, "chart": drawn, "rows": rows, "last": label(chart["values"][-1])})
    return out


async def _budget_context(
    request: Request[Any, Any, Any], page: Page, budget_id: str, month: str | None = None, **extra: Any
) -> dict[str, Any]:
    stint = stint_of(request)
    principal = page.principal
    viewer = viewer_of(principal)
    burn = await budget_burndown(stint.uow, stint.clock, tenant=principal.tenant, viewer=viewer,
                                 budget_id=budget_id)
    usage = burn.usage
    names = await user_names(stint.uow, tenant=principal.tenant, ids=[row.key for row in usage.by_user])
    zone = ZoneInfo(principal.tenant.time_zone)
    month = check_month(month) if month else stint.clock.now().astimezone(zone).strftime("%Y-%m")
    _, statement = await budget_statement(stint.uow, tenant=principal.tenant, viewer=viewer,
                                          budget_id=budget_id, month=month)
    return page.context(
        active="budgets", budget=burn.budget, usage=usage, burn=burn, bars=_bars(usage, burn.budget),
        charts=_charts(burn), names=names, titles=burn.titles, month=month, statement=statement,
        statement_hours=_fmt_hours(statement.billable_s), may_manage=_may_manage(page),
        sees_all=viewer.sees_all, **_formatters(burn.currency), **extra,
    )


class BudgetsPageController(Controller):
    path = "/budgets"
    include_in_schema = False

    @get("/", name="budgets")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.VIEW_OWN_TIMESHEET)
        return render(request, "budgets/index.html", "budgets/_list.html", await _list_context(request, page))

    @post("/", status_code=200)
    async def create(
        self, request: Request[Any, Any, Any], data: Annotated[BudgetForm, _URL_ENCODED]
    ) -> Template | Redirect:
        page = await open_page(request, Action.MANAGE_BUDGETS)
        stint = stint_of(request)
        budget = await add_budget(stint.uow, stint.clock, tenant=page.principal.tenant,
                                  actor=page.principal.user, draft=BudgetDraft(**budget_fields(data)))
        if not is_htmx(request):
            return Redirect(f"/budgets/{budget.id}", status_code=303)
        done = gettext("Budget %(name)s added.", name=repr(budget.name))
        context = await _list_context(request, page, done=done)
        return render(request, "budgets/index.html", "budgets/_list.html", context)

    @get("/{budget_id:str}", name="budget")
    async def show(
        self, request: Request[Any, Any, Any], budget_id: FromPath[str],
        month: Annotated[str | None, QueryParameter(max_length=7)] = None,
    ) -> Template:
        page = await open_page(request, Action.VIEW_OWN_TIMESHEET)
        context = await _budget_context(request, page, budget_id, month)
        return render(request, "budgets/budget.html", "budgets/_statement.html" if month else None, context)

    async def _changed(
        self, request: Request[Any, Any, Any], page: Page, budget_id: str, done: str
    ) -> Template:
        context = await _budget_context(request, page, budget_id, done=done)
        return render(request, "budgets/budget.html", "budgets/_budget.html", context)

    @post("/{budget_id:str}", status_code=200)
    async def edit(
        self, request: Request[Any, Any, Any], budget_id: FromPath[str],
        data: Annotated[BudgetForm, _URL_ENCODED],
    ) -> Template:
        page = await open_page(request, Action.MANAGE_BUDGETS)
        stint = stint_of(request)
        budget = await change_budget(stint.uow, stint.clock, tenant=page.principal.tenant,
                                     actor=page.principal.user, budget_id=budget_id,
                                     changes=BudgetChanges(**budget_fields(data)))
        return await self._changed(request, page, budget_id, f"Budget {budget.name!r} saved.")

    @post("/{budget_id:str}/open", status_code=200)
    async def open_or_close(
        self, request: Request[Any, Any, Any], budget_id: FromPath[str],
        data: Annotated[OpenForm, _URL_ENCODED],
    ) -> Template:
        page = await open_page(request, Action.MANAGE_BUDGETS)
        stint = stint_of(request)
        reopen = data.open == "1"
        await change_budget(stint.uow, stint.clock, tenant=page.principal.tenant, actor=page.principal.user,
                            budget_id=budget_id, changes=BudgetChanges(open=reopen))
        done = (gettext("Budget reopened.") if reopen
                else gettext("Budget closed: it takes no new worklogs or assignments."))
        return await self._changed(request, page, budget_id, done)

    @post("/{budget_id:str}/assign", status_code=200)
    async def assign(
        self, request: Request[Any, Any, Any], budget_id: FromPath[str],
        data: Annotated[AssignForm, _URL_ENCODED],
    ) -> Template:
        page = await open_page(request, Action.MANAGE_BUDGETS)
        stint = stint_of(request)
        targets = Targets(
            iterations=int_ids(data.iterations, "iterations"),
            work_items=int_ids(data.work_items, "work_items"),
            worklogs=[token for token in ID_SEPARATORS.split(data.worklogs) if token],
        )
        if not (targets.iterations or targets.work_items or targets.worklogs):
            raise ValidationFailed("name at least one iteration, work item or worklog", field="work_items")
        if data.action == "assign":
            await assign_budget(stint.uow, stint.clock, tenant=page.principal.tenant,
                                actor=page.principal.user, budget_id=budget_id, targets=targets)
            done = gettext("Assigned.")
        else:
            removed = await unassign_budget(stint.uow, stint.clock, tenant=page.principal.tenant,
                                            actor=page.principal.user, budget_id=budget_id, targets=targets)
            done = ngettext("%(num)s assignment removed.", "%(num)s assignments removed.", removed)
        return await self._changed(request, page, budget_id, done)

    @get("/{budget_id:str}/statement")
    async def statement(
        self, request: Request[Any, Any, Any], budget_id: FromPath[str],
        month: Annotated[str, QueryParameter(max_length=7)],
        format: Annotated[Literal["csv", "xlsx"], QueryParameter()] = "csv",
    ) -> Response[bytes]:
        """The statement file, as the API's (same columns, same neutralised cells)."""
        page = await open_page(request, Action.VIEW_OWN_TIMESHEET)
        stint = stint_of(request)
        principal = page.principal
        budget, found = await budget_statement(stint.uow, tenant=principal.tenant,
                                               viewer=viewer_of(principal), budget_id=budget_id, month=month)
        users = list({x.user_id for x in found.lines})
        names = await user_names(stint.uow, tenant=principal.tenant, ids=users)
        rows = statement_rows(found, names)
        if format == "xlsx":
            content = stint.spreadsheets.write(rows, columns=STATEMENT_COLUMNS,
                                               number_columns=STATEMENT_NUMBERS, title="Statement")
            media_type = XLSX_MEDIA_TYPE
        else:
            content, media_type = write_csv(rows, STATEMENT_COLUMNS).encode("utf-8-sig"), "text/csv"
        disposition = f'attachment; filename="budget-{budget.id}-{found.month}.{format}"'
        return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})

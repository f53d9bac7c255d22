"""``/reports``: the Reports page (issue #19) — each widget a server-drawn SVG chart with
its table beside it and a CSV/XLSX download of exactly the table's rows.

The filters ride in the URL (a GET form: shareable, and it works with JavaScript off);
with htmx a change swaps only the widgets. Who sees what is decided by the use case
(``core.services.reports``): this controller only parses the filters and formats the
figures. Everyone with a timesheet opens the page; Product, Budget and Administrators see
everyone's time, Team their own. A personal access token with ``reporting:read`` opens it
too (a wall screen sends it as ``Authorization: Bearer``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from core.errors import NotFound, ValidationFailed
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.licensing.roles import Permission, Role, role_allows
from core.services.reports import ReportFilters, Reports, ReportViewer, reports
from core.texts import N_
from core.tracking import write_csv
from core.tracking.rows import XLSX_MEDIA_TYPE, neutralise_formula
from plugins import i18n

from .charts import BarChart, bar_chart, burn_bar, half_even
from .render import Page, open_page, render, stint_of

__all__ = ["ReportsPageController", "Table", "widget_tables"]

Day = Annotated[str | None, QueryParameter(max_length=10)]
Short = Annotated[str | None, QueryParameter(max_length=64)]
#: The columns the estimates table sorts by (``sort=``), and the default: furthest over first.
SORTS = ("over", "estimate", "completed", "tracked", "title")
#: The estimates table's column headers that sort it, and their ``sort=`` names.
SORT_COLUMNS = {"Work item": "title", "Original estimate": "estimate", "Completed work": "completed",
                "Tracked hours": "tracked", "Over estimate": "over"}
TIME_BY = {
    "user": "Time by user", "activity_type": "Time by activity type",
    "work_item_type": "Time by work item type", "budget": "Time by budget", "day": "Time by day",
}
#: Each time widget's description, one whole sentence per widget (the template translates it and
#: fills in the range: word order differs between languages).
TIME_BY_DESCRIPTIONS = {
    "user": N_("Time by user: tracked hours, billable and non-billable stacked, %(start)s to %(end)s."),
    "activity_type": N_("Time by activity type: tracked hours, billable and non-billable stacked, "
                        "%(start)s to %(end)s."),
    "work_item_type": N_("Time by work item type: tracked hours, billable and non-billable stacked, "
                         "%(start)s to %(end)s."),
    "budget": N_("Time by budget: tracked hours, billable and non-billable stacked, %(start)s to %(end)s."),
    "day": N_("Time by day: tracked hours, billable and non-billable stacked, %(start)s to %(end)s."),
}


#: The widgets' titles, column headers and fixed descriptions as the templates show them
#: (``_(t.title)``, ``_(col)``): listed here so the catalogue extraction finds them.
_SHOWN = (
    N_("Time by user"), N_("Time by activity type"), N_("Time by work item type"), N_("Time by budget"),
    N_("Time by day"), N_("Estimates vs. actual"), N_("Budget burn"), N_("Chargeback"),
    N_("Expected vs. tracked"), N_("Non-billable"), N_("Expected"), N_("Work item"), N_("Type"),
    N_("Original estimate"), N_("Completed work"),
    N_("Tracked hours"), N_("Over estimate"), N_("Billable hours"), N_("Non-billable hours"),
    N_("Total hours"), N_("Budget"), N_("Hours used"), N_("Hour limit"), N_("Amount used"),
    N_("Amount limit"), N_("Currency"), N_("Projected end"), N_("Customer"), N_("Month"), N_("Amount"),
    N_("User"), N_("Expected hours"), N_("Difference"), N_("Activity type"), N_("Work item type"), N_("Day"),
    N_("Per feature and story with all their descendants: Original Estimate, Completed Work and "
       "tracked hours, the items furthest over their estimate first."),
    N_("Hours and money used of each budget's limits over its whole life, and the day the first "
       "limit is reached at the average daily rate since the budget started."),
    N_("Each person's expected hours from their working hours (days off not counted) against the "
       "hours they tracked in the range."),
)


def hours(seconds: int) -> str:
    """Seconds as decimal hours to two places, rounded once half-even: 5400 → "1.50"."""
    hundredths = half_even(seconds * 100, 3600)
    sign = "-" if hundredths < 0 else ""
    whole, part = divmod(abs(hundredths), 100)
    return f"{sign}{whole}.{part:02d}"


def money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 100)
    return f"{sign}{whole}.{part:02d}"


@dataclass(frozen=True, slots=True)
class Table:
    """One widget: what its chart draws, and the same figures as rows (table and download)."""

    id: str
    title: str
    description: str
    columns: list[str]
    numbers: list[str]
    rows: list[dict[str, str]]
    chart: BarChart | None = None
    #: Budget burn draws burn bars per budget instead: (name, hours bar, money bar).
    bars: list[tuple[str, Any, Any]] | None = None
    #: The values the (translated) description's ``%(name)s`` fields take.
    values: dict[str, str] = field(default_factory=dict)


def _time_by(found: Reports) -> list[Table]:
    out = []
    for key, title in TIME_BY.items():
        bars = found.time_by[key]
        first = "Day" if key == "day" else title.removeprefix("Time by ").capitalize()
        # The core names time without a user, type or budget "(none)": said in the reader's language.
        labels = [b.label if b.key else i18n.gettext("(none)") for b in bars]
        rows = [{first: label, "Billable hours": hours(b.billable_s),
                 "Non-billable hours": hours(b.non_billable_s), "Total hours": hours(b.tracked_s)}
                for label, b in zip(labels, bars, strict=True)]
        chart = bar_chart(labels,
                          [("Billable", [b.billable_s for b in bars]),
                           ("Non-billable", [b.non_billable_s for b in bars])],
                          label=hours, stacked=True)
        locale = i18n.current().locale
        out.append(Table(f"time-{key.replace('_', '-')}", title, TIME_BY_DESCRIPTIONS[key],
                         [first, "Billable hours", "Non-billable hours", "Total hours"],
                         ["Billable hours", "Non-billable hours", "Total hours"], rows, chart,
                         values={"start": i18n.day(found.filters.start, locale),
                                 "end": i18n.day(found.filters.end, locale)}))
    return out


def _estimates(found: Reports, sort: str, descending: bool) -> Table:
    keys = {"over": lambda r: (r.over_s, -r.id), "estimate": lambda r: (r.estimate_s, -r.id),
            "completed": lambda r: (r.completed_s, -r.id), "tracked": lambda r: (r.tracked_s, -r.id),
            "title": lambda r: (r.title.casefold(), r.id)}
    rows_in = sorted(found.estimates, key=keys[sort], reverse=descending)
    rows = [{"Work item": f"#{r.id} {r.title}", "Type": r.type, "Original estimate": hours(r.estimate_s),
             "Completed work": hours(r.completed_s), "Tracked hours": hours(r.tracked_s),
             "Over estimate": hours(r.over_s)} for r in rows_in]
    chart = bar_chart([f"#{r.id} {r.title}" for r in rows_in],
                      [("Original estimate", [r.estimate_s for r in rows_in]),
                       ("Completed work", [r.completed_s for r in rows_in]),
                       ("Tracked", [r.tracked_s for r in rows_in])], label=hours, stacked=False)
    return Table("estimates", "Estimates vs. actual",
                 "Per feature and story with all their descendants: Original Estimate, Completed Work and "
                 "tracked hours, the items furthest over their estimate first.",
                 ["Work item", "Type", "Original estimate", "Completed work", "Tracked hours",
                  "Over estimate"],
                 ["Original estimate", "Completed work", "Tracked hours", "Over estimate"], rows, chart)


def _burn(found: Reports) -> Table:
    rows, bars = [], []
    for b in found.burn:
        rows.append({"Budget": b.name, "Hours used": hours(b.tracked_s),
                     "Hour limit": hours(b.limit_s) if b.limit_s is not None else "",
                     "Amount used": money(b.amount),
                     "Amount limit": money(b.amount_limit) if b.amount_limit is not None else "",
                     "Currency": b.currency,
                     "Projected end": b.projected_end.isoformat() if b.projected_end else ""})
        bars.append((b.name, burn_bar(b.tracked_s, b.limit_s) if b.limit_s is not None else None,
                     burn_bar(b.amount, b.amount_limit) if b.amount_limit is not None else None))
    return Table("burn", "Budget burn",
                 "Hours and money used of each budget's limits over its whole life, and the day the first "
                 "limit is reached at the average daily rate since the budget started.",
                 ["Budget", "Hours used", "Hour limit", "Amount used", "Amount limit", "Currency",
                  "Projected end"],
                 ["Hours used", "Hour limit", "Amount used", "Amount limit"], rows, bars=bars)


def _chargeback(found: Reports) -> Table:
    lines = found.chargeback
    rows = [{"Budget": c.budget, "Customer": c.customer or "", "Month": c.month,
             "Billable hours": hours(c.billable_s), "Amount": money(c.amount), "Currency": found.currency}
            for c in lines]
    chart = bar_chart([f"{c.budget} {c.month}" for c in lines], [("Amount", [c.amount for c in lines])],
                      label=money, stacked=True)
    return Table("chargeback", "Chargeback",
                 N_("Billable amounts (%(currency)s) per budget and customer per month, as the budgets' "
                    "monthly statements count them."),
                 ["Budget", "Customer", "Month", "Billable hours", "Amount", "Currency"],
                 ["Billable hours", "Amount"], rows, chart, values={"currency": found.currency})


def _expected(found: Reports) -> Table:
    lines = found.expected
    rows = [{"User": e.name, "Expected hours": hours(e.expected_s), "Tracked hours": hours(e.tracked_s),
             "Difference": hours(e.tracked_s - e.expected_s)} for e in lines]
    chart = bar_chart([e.name for e in lines], [("Expected", [e.expected_s for e in lines]),
                                                ("Tracked", [e.tracked_s for e in lines])],
                      label=hours, stacked=False)
    return Table("expected", "Expected vs. tracked",
                 "Each person's expected hours from their working hours (days off not counted) against the "
                 "hours they tracked in the range.",
                 ["User", "Expected hours", "Tracked hours", "Difference"],
                 ["Expected hours", "Tracked hours", "Difference"], rows, chart)


def widget_tables(found: Reports, sort: str = "over", descending: bool = True) -> dict[str, Table]:
    tables = [_estimates(found, sort, descending), *_time_by(found), _burn(found), _chargeback(found),
              _expected(found)]
    return {t.id: t for t in tables}


def _day(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{field} is a date (YYYY-MM-DD)", field=field) from None


def _filters(request: Request[Any, Any, Any], today: date) -> tuple[ReportFilters, str, bool]:
    params = request.query_params
    end = _day(params.get("to"), "to") or today
    # Default: from the first of last month, so the chargeback shows two months.
    start = _day(params.get("from"), "from") or (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    iteration_text = params.get("iteration") or ""
    if iteration_text and (not iteration_text.isdecimal() or len(iteration_text) > 18):
        raise ValidationFailed("iteration is an iteration id", field="iteration")
    users = [u for u in params.getall("user", []) if u][:200]
    if any(len(u) > 64 for u in users):
        raise ValidationFailed("user is a user id", field="user")
    budget = params.get("budget") or None
    if budget is not None and len(budget) > 64:
        raise ValidationFailed("budget is a budget id", field="budget")
    sort = params.get("sort") or "over"
    if sort not in SORTS:
        raise ValidationFailed(f"sort is one of {', '.join(SORTS)}", field="sort")
    descending = params.get("dir", "desc") != "asc"
    filters = ReportFilters(start, end, int(iteration_text) if iteration_text else None,
                            frozenset(users) if users else None, budget)
    return filters, sort, descending


async def _context(request: Request[Any, Any, Any], page: Page) -> tuple[dict[str, Any], dict[str, Table]]:
    stint = stint_of(request)
    principal = page.principal
    role = Role(principal.user.effective_role(principal.tenant.default_role))
    viewer = ReportViewer(principal.user.id, role_allows(role, Permission.VIEW_REPORTS))
    today = stint.clock.now().astimezone(ZoneInfo(principal.tenant.time_zone)).date()
    filters, sort, descending = _filters(request, today)
    found = await reports(stint.uow, stint.clock, tenant=principal.tenant, viewer=viewer, filters=filters)
    tables = widget_tables(found, sort, descending)
    query = request.url.query or ""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("sort", "dir")]

    def sort_query(key: str) -> str:
        # The same column again flips the order; another one starts from its largest.
        flip = key == sort and descending
        return urlencode([*kept, ("sort", key), ("dir", "asc" if flip else "desc")])

    return page.context(
        active="reports", found=found, tables=tables, sort=sort, descending=descending,
        sees_all=viewer.sees_all, query=query, filters=filters, sort_query=sort_query, sort_keys=SORT_COLUMNS,
        fmt_hours=lambda s: f"{hours(s)} h", fmt_money=lambda m: f"{money(m)} {found.currency}",
    ), tables


class ReportsPageController(Controller):
    path = "/reports"
    include_in_schema = False

    @get("/", name="reports")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.VIEW_OWN_TIMESHEET, token_scope=Scope.REPORTING_READ)
        context, _tables = await _context(request, page)
        return render(request, "reports/index.html", "reports/_widgets.html", context)

    @get("/{widget:str}/download")
    async def download(
        self, request: Request[Any, Any, Any], widget: FromPath[str],
        format: Annotated[Literal["csv", "xlsx"], QueryParameter()] = "csv",
    ) -> Response[bytes]:
        """One widget's table as a file: the same rows, the same columns, the same text."""
        page = await open_page(request, Action.VIEW_OWN_TIMESHEET, token_scope=Scope.REPORTING_READ)
        _, tables = await _context(request, page)
        table = tables.get(widget)
        if table is None:
            raise NotFound("there is no such widget")
        # Names typed by people (budgets, titles) must not run as formulas in a spreadsheet.
        numbers = set(table.numbers)
        safe = [{k: v if k in numbers else neutralise_formula(v) for k, v in row.items()}
                for row in table.rows]
        if format == "xlsx":
            content = stint_of(request).spreadsheets.write(
                safe, columns=table.columns, number_columns=table.numbers, title=table.title[:31])
            media_type = XLSX_MEDIA_TYPE
        else:
            content, media_type = write_csv(safe, table.columns).encode("utf-8-sig"), "text/csv"
        disposition = f'attachment; filename="report-{table.id}.{format}"'
        return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})

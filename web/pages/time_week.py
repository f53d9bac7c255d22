"""The Time tab's week: the weekly timesheet's context — the keyboard grid (its filters and
added rows kept in the page's address, each cell's accessible name), the week's worklogs and
which week a request means."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from litestar import Request

from core.clock import today_in
from core.services.planning import work_item_titles
from core.services.timesheet_grid import SheetFilters, SheetRow, sheet_items, sheet_rows
from core.services.timesheets import week_view
from core.services.work_item_automation import work_item_automation
from core.services.worklogs import list_worklogs
from core.texts import N_
from core.tracking import WeekId, parse_week_id, week_of, zone
from core.tracking.cells import format_hm
from plugins import i18n
from plugins.i18n import gettext

from .render import Page, stint_of

__all__ = ["WEEK_STATES", "SheetState", "week_context", "week_id_of"]

#: The week states as pages show them: the templates translate ``_(week.status.value)``,
#: these marks put the words in the catalogue.
WEEK_STATES = (N_("open"), N_("submitted"), N_("approved"), N_("rejected"), N_("closed"))


def _bounds(week: WeekId, tz: str) -> tuple[datetime, datetime]:
    start = datetime.combine(week.monday, time(), tzinfo=zone(tz)).astimezone(UTC)
    return start, start + timedelta(days=7)


#: The most rows "add a row" keeps in the address (each is a work item id).
_MAX_ADDED = 20


@dataclass(frozen=True, slots=True)


class SheetState:
    """The grid's filters and added rows. They live in the page's address (so a reload or a
    shared link shows the same grid); a request without them reads the address it came from
    (htmx sends it as ``HX-Current-URL``), so a cell write keeps the grid as the user sees it."""

    filters: SheetFilters
    added: tuple[str, ...] = ()

    @property
    def filter_query(self) -> str:
        """The filters as ``&``-prefixed query parameters (always both, so a link that turns a
        filter off says so rather than falling back to the address it came from)."""
        mine = "1" if self.filters.mine else "0"
        iteration = "current" if self.filters.current_iteration else "any"
        return f"&mine={mine}&iteration={iteration}"


_SHEET_KEYS = ("mine", "iteration", "add")


def _sheet_state(request: Request[Any, Any, Any]) -> SheetState:
    params: Mapping[str, str] = {k: v for k, v in request.query_params.items() if k in _SHEET_KEYS}
    if not params:
        current = urlsplit(request.headers.get("hx-current-url", ""))
        params = {k: v for k, v in parse_qsl(current.query) if k in _SHEET_KEYS}
    added = tuple(
        dict.fromkeys(
            name for name in (part.strip() for part in params.get("add", "").split(","))
            if name.isascii() and name.isdecimal() and len(name) <= 18
        )
    )[:_MAX_ADDED]
    filters = SheetFilters(
        mine=params.get("mine", "") in ("1", "true", "on"),
        current_iteration=params.get("iteration", "") == "current",
    )
    return SheetState(filters, added)


def _cell_label(day: date, row: SheetRow, seconds: int) -> str:
    """The cell's name in the reader's language (a German screen reader read it out in English)."""
    locale = i18n.current().locale
    item = f"#{row.work_item} {row.title}" if row.work_item and row.title else (
        f"#{row.work_item}" if row.work_item else gettext("no work item")
    )
    # The cell shows "1:30"; its name starts with that same text (what a voice-control user
    # says to reach it, WCAG 2.5.3) and spells it out after it.
    value = (f"{seconds // 3600}:{seconds % 3600 // 60:02d} ({format_hm(seconds)})" if seconds
             else gettext("empty"))
    # English keeps "Tue 12 May"; other languages their own weekday and month ("Di. 12. Mai").
    said = (f"{day.strftime('%a')} {day.day} {day.strftime('%b')}" if locale == "en"
            else i18n.weekday_day(day, locale))
    if row.blue:
        return gettext("%(day)s, %(item)s: %(value)s (in progress, assigned to you)",
                       day=said, item=item, value=value)
    return gettext("%(day)s, %(item)s: %(value)s", day=said, item=item, value=value)


async def week_context(
    request: Request[Any, Any, Any], page: Page, week: WeekId, sheet: SheetState | None = None
) -> dict[str, Any]:
    stint = stint_of(request)
    p = page.principal
    sheet = sheet or _sheet_state(request)
    view = await week_view(stint.uow, tenant=p.tenant, user_id=p.user.id, week=week,
                           today=today_in(stint.clock))
    start, end = _bounds(week, view.time_zone)
    worklogs = await list_worklogs(stint.uow, tenant=p.tenant, user_id=p.user.id, start=start, end=end)
    tz = zone(view.time_zone)
    automation = await work_item_automation(stint.uow, tenant=p.tenant)
    names = [w.work_item for w in worklogs] + [r.work_item for r in view.grid.rows]
    items = await sheet_items(
        stint.uow, tenant=p.tenant, user_id=p.user.id, week=week, names=[*names, *sheet.added]
    )
    rows = sheet_rows(view.grid, items, user_id=p.user.id, filters=sheet.filters, added=sheet.added)
    # How many worklogs lie under each cell: clearing several asks first.
    counts: dict[tuple[str | None, date], int] = {}
    for w in worklogs:
        key = (w.work_item, w.started_at.astimezone(tz).date())
        counts[key] = counts.get(key, 0) + 1
    return {
        "sheet": sheet,
        "sheet_rows": rows,
        "cell_counts": counts,
        "cell_label": _cell_label,
        "remaining_per_worklog": automation.takes_remaining_per_worklog,
        "titles": await work_item_titles(stint.uow, tenant=p.tenant, names=names),
        "week": view,
        "week_id": str(week),
        "prev_week": str(week_of(week.monday - timedelta(days=7))),
        "next_week": str(week_of(week.monday + timedelta(days=7))),
        "worklogs": sorted(worklogs, key=lambda w: w.started_at),
        "local": lambda instant: instant.astimezone(tz),
        "today": stint.clock.now().astimezone(tz).date(),
    }


def week_id_of(request: Request[Any, Any, Any], text: str | None) -> WeekId:
    if text:
        return parse_week_id(text)
    return week_of(stint_of(request).clock.now().date())

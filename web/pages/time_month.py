"""The Time tab's month: the monthly calendar of the user's days (``/time/month``, and a
week submitted from it)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from litestar import Request
from litestar.response import Template

from core.services.timesheets import month_view
from core.tracking import zone
from plugins import i18n

from .render import Page, render, stint_of

# Nothing public: its helper serves the Time tab's controller (web/pages/time.py) only.
__all__: list[str] = []

MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


async def month_page(request: Request[Any, Any, Any], page: Page, year: int, month: int) -> Template:
    stint = stint_of(request)
    p = page.principal
    view = await month_view(stint.uow, tenant=p.tenant, user_id=p.user.id, year=year, month=month)
    first = date(year, month, 1)
    prev_month = (first - timedelta(days=1)).strftime("%Y-%m")
    next_month = (first + timedelta(days=32)).strftime("%Y-%m")
    context = page.context(
        month=view,
        month_id=first.strftime("%Y-%m"),
        month_name=i18n.month_title(first, i18n.current().locale),
        prev_month=prev_month,
        next_month=next_month,
        today=stint.clock.now().astimezone(zone(view.time_zone)).date(),
    )
    return render(request, "time/month.html", "time/_month.html", context)

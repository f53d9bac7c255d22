"""The running timer as the Time tab shows it: the fragment the page polls every 2 s (since
when, for how long, on what, and whether the activity check is due)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from core.services.planning import work_item_titles
from core.services.tracking import current_timer
from core.tracking import zone

from .render import Page, stint_of, zone_of

# Nothing public: its helper serves the Time tab's controller (web/pages/time.py) only.
__all__: list[str] = []


async def timer_context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    p = page.principal
    timer, _ = await current_timer(stint.uow, stint.clock, tenant=p.tenant, user=p.user)
    now = stint.clock.now()
    tz = await zone_of(request, page)
    state: dict[str, Any] = {"running": False}
    if timer is not None:
        elapsed = int((now - timer.started_at).total_seconds())
        state = {
            "running": True,
            "since": timer.started_at.astimezone(zone(tz)).strftime("%H:%M"),
            "elapsed": f"{elapsed // 3600}:{elapsed % 3600 // 60:02d}:{elapsed % 60:02d}",
            "work_item": timer.work_item,
            "work_item_title": (await work_item_titles(stint.uow, tenant=p.tenant, names=[timer.work_item]))
            .get(timer.work_item or ""),
            "comment": timer.comment,
            "activity_type": timer.activity_type,
            "check_due": now >= timer.next_activity_check_at,
        }
    return page.context(timer=state, **extra)

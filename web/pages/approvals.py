"""``/approvals``: the approval queue for those who decide weeks (a global approval manager,
or a user's approver): filters, a week's detail with its worklogs, approve / reject with a
note in one click each, and bulk approve. Every step goes through the same service and
rules as ``/api/v1/weeks`` (core/services/approval_steps.py). Also the owner's "Revoke
submission" (a plain form from the Time tab, answered with a redirect back to it)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from core.errors import AccessDenied, StintError
from core.licensing.access import Action
from core.services.approval_steps import change_week
from core.services.approvals import approval_queue, deciders
from core.services.worklogs import list_worklogs
from core.tracking import WeekStatus, parse_week_id
from core.tracking.explorer import week_window
from plugins.i18n import gettext, texts_for

from .render import Page, open_page, render, stint_of

__all__ = ["ApprovalsPageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)
_STATES = ("submitted", "approved", "rejected")


class RejectForm(msgspec.Struct):
    note: str = ""


class BulkForm(msgspec.Struct):
    #: ``user_id:week`` of each week ticked (one string when only one is).
    weeks: list[str] | str = msgspec.field(default_factory=list)


async def _open(request: Request[Any, Any, Any]) -> Page:
    page = await open_page(request, Action.VIEW_OWN_TIMESHEET)
    p = page.principal
    people = await deciders(stint_of(request).uow, tenant=p.tenant, actor=p.user)
    if people is not None and not people:
        raise AccessDenied("not_permitted", "only approvers and approval managers decide weeks")
    return page


async def _queue(
    request: Request[Any, Any, Any], page: Page, state: str, week: str, user: str, **extra: Any
) -> Template:
    p = page.principal
    chosen = state if state in _STATES else "submitted"
    items = await approval_queue(
        stint_of(request).uow, tenant=p.tenant, actor=p.user, states={WeekStatus(chosen)},
        week=week or None, user_id=user or None,
    )
    context = page.context(items=items, state=chosen, week=week, user=user, states=_STATES, **extra)
    return render(request, "approvals/index.html", "approvals/_queue.html", context)


class ApprovalsPageController(Controller):
    path = "/approvals"
    include_in_schema = False

    @get("/", name="approvals")
    async def show(
        self, request: Request[Any, Any, Any],
        week_state: Annotated[str, QueryParameter(name="state", max_length=16)] = "submitted",
        week: Annotated[str, QueryParameter(max_length=10)] = "",
        user: Annotated[str, QueryParameter(max_length=64)] = "",
    ) -> Template:
        page = await _open(request)
        return await _queue(request, page, week_state, week, user)

    @get("/{user_id:str}/{week:str}", name="approval_week")
    async def detail(
        self, request: Request[Any, Any, Any], user_id: FromPath[str], week: FromPath[str]
    ) -> Template:
        page = await _open(request)
        p = page.principal
        stint = stint_of(request)
        found = await approval_queue(
            stint.uow, tenant=p.tenant, actor=p.user, states=set(WeekStatus), week=week, user_id=user_id
        )
        if not found:
            raise AccessDenied("not_permitted", "you do not decide this week")
        item = found[0]
        async with stint.uow() as work:
            zones = await work.tenant(p.tenant.id).tracking().time_zones()
        window = week_window(user_id, parse_week_id(week), zones.get(user_id) or p.tenant.time_zone)
        worklogs = await list_worklogs(stint.uow, tenant=p.tenant, user_id=user_id,
                                       start=window.start, end=window.end)
        context = page.context(item=item, worklogs=worklogs)
        return render(request, "approvals/week.html", None, context)

    async def _decide(
        self, request: Request[Any, Any, Any], user_id: str, week: str,
        action: Literal["approve", "reject"], note: str | None = None,
    ) -> Template:
        page = await _open(request)
        stint = stint_of(request)
        p = page.principal
        try:
            await change_week(
                stint.uow, stint.clock, tenant=p.tenant, actor=p.user, owner_id=user_id,
                week=parse_week_id(week), action=action, note=note, mailer=stint.mailer, language=texts_for,
                base_url=stint.settings.base_url,
            )
        except StintError as refused:
            return await _queue(request, page, "submitted", "", "", error=str(refused))
        done = (gettext("Approved %(week)s.", week=week) if action == "approve"
                else gettext("Rejected %(week)s.", week=week))
        return await _queue(request, page, "submitted", "", "", done=done)

    @post("/{user_id:str}/{week:str}/approve", status_code=200)
    async def approve(
        self, request: Request[Any, Any, Any], user_id: FromPath[str], week: FromPath[str]
    ) -> Template:
        return await self._decide(request, user_id, week, "approve")

    @post("/{user_id:str}/{week:str}/reject", status_code=200)
    async def reject(
        self, request: Request[Any, Any, Any], user_id: FromPath[str], week: FromPath[str],
        data: Annotated[RejectForm, _URL_ENCODED],
    ) -> Template:
        return await self._decide(request, user_id, week, "reject", note=data.note)

    @post("/bulk-approve", status_code=200)
    async def bulk_approve(
        self, request: Request[Any, Any, Any], data: Annotated[BulkForm, _URL_ENCODED]
    ) -> Template:
        page = await _open(request)
        stint = stint_of(request)
        p = page.principal
        picked = [data.weeks] if isinstance(data.weeks, str) else data.weeks
        approved, refused = 0, []
        for key in picked:
            user_id, _, week = key.partition(":")
            try:
                await change_week(
                    stint.uow, stint.clock, tenant=p.tenant, actor=p.user, owner_id=user_id,
                    week=parse_week_id(week), action="approve", mailer=stint.mailer, language=texts_for,
                    base_url=stint.settings.base_url,
                )
                approved += 1
            except StintError as error:
                refused.append(f"{week}: {error}")
        done = gettext("Approved %(count)s week(s).", count=approved)
        return await _queue(request, page, "submitted", "", "", done=done, error="; ".join(refused) or None)

    @post("/revoke/{week:str}", status_code=303)
    async def revoke(self, request: Request[Any, Any, Any], week: FromPath[str]) -> Redirect:
        page = await open_page(request, Action.SUBMIT_OWN_WEEK)
        stint = stint_of(request)
        p = page.principal
        week_id = parse_week_id(week)
        await change_week(stint.uow, stint.clock, tenant=p.tenant, actor=p.user, owner_id=p.user.id,
                          week=week_id, action="revoke")
        return Redirect(f"/time?week={week_id}", status_code=303)

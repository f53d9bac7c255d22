"""``/api/v1/approvals`` (the queue of weeks the caller may decide) and
``/api/v1/settings/approval`` (the tenant's approval start date and automatic lock)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, put
from litestar.params import JSONBody, QueryParameter

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.approval_settings import ApprovalSettings, approval_settings, save_approval_settings
from core.services.approvals import approval_queue
from core.tracking import WeekStatus, check_day

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import Strict

__all__ = ["ApprovalSettingsController", "ApprovalsController"]



class PersonOut(msgspec.Struct):
    id: str
    name: str


class QueueItemOut(msgspec.Struct):
    user: PersonOut
    week: str
    state: str
    tracked_s: int
    billable_s: int
    submitted_at: datetime | None
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None


class QueueOut(msgspec.Struct):
    items: list[QueueItemOut]
    next_cursor: str | None = None


class ApprovalsController(Controller):
    path = "/approvals"
    tags = ("timesheet",)

    @get("/", summary="The weeks you may decide, with their totals",
         guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.ADMIN)])
    async def queue(
        self, request: TenantRequest, stint: StintDep,
        # ``state`` is a reserved name in Litestar's handlers, hence the alias.
        week_state: Annotated[
            Literal["submitted", "approved", "rejected"], QueryParameter(name="state")
        ] = "submitted",
        week: Annotated[str | None, QueryParameter(max_length=10, description="YYYY-Www")] = None,
        user: Annotated[str | None, QueryParameter(max_length=64)] = None,
        cursor: Annotated[str, QueryParameter(max_length=12, pattern="^[0-9]*$")] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> QueueOut:
        principal = request.user
        # The cursor is the position of the page's first week: the queue is a short, ordered
        # list of pending decisions, not a table to page through at scale.
        skip = int(cursor) if cursor else 0
        found = await approval_queue(
            stint.uow, tenant=principal.tenant, actor=principal.user, states={WeekStatus(week_state)},
            week=week or None, user_id=user or None, skip=skip, limit=limit + 1,
        )
        items = found[:limit]
        next_cursor = str(skip + limit) if len(found) > limit else None
        return QueueOut(next_cursor=next_cursor, items=[
            QueueItemOut(
                user=PersonOut(item.user.id, item.user.name or item.user.email), week=item.record.week,
                state=item.record.status.value, tracked_s=item.tracked_s, billable_s=item.billable_s,
                submitted_at=item.record.submitted_at, decided_by=item.record.decided_by,
                decided_at=item.record.decided_at, note=item.record.note,
            )
            for item in items
        ])


class ApprovalSettingsIO(Strict):
    #: Weeks that end before this day are closed.
    start_date: date | None = None
    #: Weeks lock this many days after they end (null: never by themselves).
    auto_lock_after_days: Annotated[int, msgspec.Meta(ge=0, le=3650)] | None = None


class ApprovalSettingsController(Controller):
    path = "/settings/approval"
    tags = ("settings",)
    guards = [requires(Action.MANAGE_RULES, Scope.ADMIN)]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", summary="The tenant's approval settings")
    async def show(self, request: TenantRequest, stint: StintDep) -> ApprovalSettingsIO:
        found = await approval_settings(stint.uow, tenant=request.user.tenant)
        return ApprovalSettingsIO(found.start_date, found.auto_lock_after_days)

    @put("/", summary="Change the approval start date and the automatic lock")
    async def change(
        self, request: TenantRequest, data: JSONBody[ApprovalSettingsIO], stint: StintDep
    ) -> ApprovalSettingsIO:
        principal = request.user
        if data.start_date is not None:
            check_day(data.start_date, "start_date")
        saved = await save_approval_settings(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user,
            settings=ApprovalSettings(data.start_date, data.auto_lock_after_days),
        )
        return ApprovalSettingsIO(saved.start_date, saved.auto_lock_after_days)

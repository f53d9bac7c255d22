"""``/api/v1/settings/work-item-automation``: how time tracking drives the work items'
DevOps time fields (Administrators only).

``enabled`` turns the automation on or off; ``fields`` is which fields it writes
(``both``, ``completed``, ``remaining`` or ``none``); ``remaining`` is how a new worklog
changes Remaining Work: ``reduce`` (by the worklog's length, the default), ``leave``, or
``per_worklog`` (the user sets it on the worklog: ``remaining_h`` on ``POST /worklogs``).
A change applies from the job's next run; updates already written are never written again.
An unknown value is a 422 naming the field.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Controller, get, put
from litestar.params import JSONBody

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.work_item_automation import save_work_item_automation, work_item_automation
from core.tracking.automation import WorkItemAutomation, automation_settings

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..schemas import Strict

__all__ = ["WorkItemAutomationController"]


Fields = Literal["both", "completed", "remaining", "none"]
Remaining = Literal["reduce", "leave", "per_worklog"]


class WorkItemAutomationIn(Strict):
    enabled: bool
    fields: Fields
    remaining: Remaining


class WorkItemAutomationOut(msgspec.Struct):
    enabled: bool
    fields: Fields
    remaining: Remaining
    #: Whether new worklogs take ``remaining_h`` (on, Remaining Work written, ``per_worklog``).
    takes_remaining_per_worklog: bool


def _out(settings: WorkItemAutomation) -> WorkItemAutomationOut:
    return msgspec.convert(
        {
            "enabled": settings.enabled,
            "fields": settings.fields.value,
            "remaining": settings.remaining.value,
            "takes_remaining_per_worklog": settings.takes_remaining_per_worklog,
        },
        WorkItemAutomationOut,
    )


class WorkItemAutomationController(Controller):
    path = "/settings/work-item-automation"
    tags = ("settings",)

    @get("/", summary="The tenant's work item automation settings",
         guards=[requires(Action.MANAGE_SETTINGS, Scope.ADMIN)])
    async def show(self, request: TenantRequest, stint: StintDep) -> WorkItemAutomationOut:
        return _out(await work_item_automation(stint.uow, tenant=request.user.tenant))

    @put("/", summary="Change how time tracking writes Completed and Remaining Work",
         guards=[requires(Action.MANAGE_SETTINGS, Scope.ADMIN)])
    async def change(
        self, request: TenantRequest, data: JSONBody[WorkItemAutomationIn], stint: StintDep
    ) -> WorkItemAutomationOut:
        principal = request.user
        settings = automation_settings(data.enabled, data.fields, data.remaining)
        saved = await save_work_item_automation(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user, settings=settings
        )
        return _out(saved)

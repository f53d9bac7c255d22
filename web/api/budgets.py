"""``/api/v1/budgets``: budgets, their assignments, usage and the monthly chargeback statement.

Who may (docs/budgets.md): the Budget role and Administrators manage (``manage_budgets``);
Product and above read everything; Team reads only the budgets its own worklogs hit, and
only its own lines in a usage or statement. The usage and statement shapes, and the
statement's file rows, are ``budget_usage.py``'s.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from core.budgets import (
    KEEP,
    Budget,
    BudgetChanges,
    BudgetDraft,
    Resolution,
    hours_to_seconds,
)
from core.errors import ValidationFailed
from core.identity.scopes import Scope
from core.licensing.access import Action
from core.licensing.roles import Permission, Role, role_allows
from core.money import Money
from core.services.budget_usage import budget_statement, budget_usage, user_names
from core.services.budgets import (
    BudgetViewer,
    Targets,
    add_budget,
    assign_budget,
    change_budget,
    get_budget,
    list_budgets,
    unassign_budget,
)
from core.services.tracking_common import user_zone
from core.tracking import write_csv
from core.tracking.explorer import bound
from core.tracking.rows import XLSX_MEDIA_TYPE, format_hours

from ..access import requires
from ..auth import TenantPrincipal, TenantRequest
from ..deps import StintDep
from ..schemas import BudgetRef, MoneyOut, Strict, cursor_text, opaque_cursor
from .budget_usage import (
    STATEMENT_COLUMNS,
    STATEMENT_NUMBERS,
    ActivityUse,
    StatementLineOut,
    StatementOut,
    StatementTotals,
    UsageOut,
    UserUse,
    WorkItemUse,
    statement_rows,
)
from .worklog_files import SpreadsheetDownload

__all__ = ["BudgetsController", "budget_ref"]

Id = Annotated[str, msgspec.Meta(max_length=64)]
Text200 = Annotated[str, msgspec.Meta(max_length=200)]
Hours = Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]
ItemId = Annotated[int, msgspec.Meta(ge=1, le=10**18)]
MAX_TARGETS = 1000


class BudgetPage(msgspec.Struct):
    items: list[BudgetOut]
    next_cursor: str | None


def _page_key(cursor: str) -> tuple[str, str]:
    """The ``(name, id)`` the previous page ended at (budgets are listed by name, then id)."""
    budget_id, bar, name = cursor_text(cursor).partition("|")
    if not bar or not budget_id:
        raise ValidationFailed("this cursor did not come from a previous page", field="cursor")
    return name, budget_id


class MoneyIn(Strict):
    amount: Annotated[int, msgspec.Meta(ge=0, le=10**15)]
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")] = "USD"

    def money(self) -> Money:
        return Money(self.amount, self.currency)


class BudgetIn(Strict):
    name: Text200
    description: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    hours: Hours | None = None
    amount: MoneyIn | None = None
    hourly_rate: MoneyIn | None = None
    open: bool = True
    starts_on: date | None = None
    ends_on: date | None = None
    customer: Text200 | None = None


class BudgetPatch(Strict):
    """Only the fields sent change; ``null`` clears an optional one."""

    name: Text200 | msgspec.UnsetType = msgspec.UNSET
    description: Annotated[str, msgspec.Meta(max_length=4000)] | msgspec.UnsetType | None = msgspec.UNSET
    hours: Hours | msgspec.UnsetType | None = msgspec.UNSET
    amount: MoneyIn | msgspec.UnsetType | None = msgspec.UNSET
    hourly_rate: MoneyIn | msgspec.UnsetType | None = msgspec.UNSET
    open: bool | msgspec.UnsetType = msgspec.UNSET
    starts_on: date | msgspec.UnsetType | None = msgspec.UNSET
    ends_on: date | msgspec.UnsetType | None = msgspec.UNSET
    customer: Text200 | msgspec.UnsetType | None = msgspec.UNSET


class BudgetOut(msgspec.Struct):
    id: str
    name: str
    description: str | None
    hours: float | None
    amount: MoneyOut | None
    hourly_rate: MoneyOut | None
    open: bool
    starts_on: date | None
    ends_on: date | None
    customer: str | None
    created_at: datetime


def budget_ref(resolution: Resolution) -> BudgetRef:
    return BudgetRef(id=resolution.budget_id, assignment=resolution.assignment.value)


ItemIds = Annotated[list[ItemId], msgspec.Meta(max_length=MAX_TARGETS)]


class TargetsIn(Strict):
    iterations: ItemIds = msgspec.field(default_factory=list)
    work_items: ItemIds = msgspec.field(default_factory=list)
    worklogs: Annotated[list[Id], msgspec.Meta(max_length=MAX_TARGETS)] = msgspec.field(default_factory=list)

    def targets(self) -> Targets:
        return Targets(self.iterations, self.work_items, self.worklogs)


class AssignOut(msgspec.Struct):
    budget_id: str
    iterations: list[int]
    work_items: list[int]
    worklogs: list[str]


class UnassignOut(msgspec.Struct):
    budget_id: str
    removed: int


def _money(value: Money | None) -> MoneyOut | None:
    return None if value is None else MoneyOut(value.amount, value.currency)


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else float((Decimal(seconds) / 3600).quantize(Decimal("0.01")))


def budget_out(budget: Budget) -> BudgetOut:
    return BudgetOut(
        id=budget.id, name=budget.name, description=budget.description, hours=_hours(budget.limit_s),
        amount=_money(budget.amount), hourly_rate=_money(budget.hourly_rate), open=budget.open,
        starts_on=budget.starts_on, ends_on=budget.ends_on, customer=budget.customer,
        created_at=budget.created_at,
    )


def _limit_s(hours: float | None) -> int | None:
    return None if hours is None else hours_to_seconds(Decimal(repr(hours)))


def viewer_of(principal: TenantPrincipal) -> BudgetViewer:
    role = Role(principal.user.effective_role(principal.tenant.default_role))
    return BudgetViewer(principal.user.id, sees_all=role_allows(role, Permission.VIEW_ALL_WORKLOGS))


class BudgetsController(Controller):
    path = "/budgets"
    tags = ("budgets",)

    @get("/", summary="Budgets by name, a page at a time (Team: only those its own worklogs hit)",
         guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.WORKLOGS_READ)])
    async def index(
        self, request: TenantRequest, stint: StintDep,
        cursor: Annotated[str, QueryParameter(max_length=400)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> BudgetPage:
        principal = request.user
        found = await list_budgets(stint.uow, tenant=principal.tenant, viewer=viewer_of(principal))
        if cursor:
            after = _page_key(cursor)
            found = [budget for budget in found if (budget.name, budget.id) > after]
        page = found[:limit]
        more = len(found) > limit
        return BudgetPage(
            items=[budget_out(budget) for budget in page],
            next_cursor=opaque_cursor(f"{page[-1].id}|{page[-1].name}") if more else None,
        )

    @post("/", summary="Add a budget", guards=[requires(Action.MANAGE_BUDGETS, Scope.ADMIN)])
    async def create(self, request: TenantRequest, data: JSONBody[BudgetIn], stint: StintDep) -> BudgetOut:
        draft = BudgetDraft(
            name=data.name, description=data.description, limit_s=_limit_s(data.hours),
            amount=data.amount.money() if data.amount else None,
            hourly_rate=data.hourly_rate.money() if data.hourly_rate else None,
            starts_on=data.starts_on, ends_on=data.ends_on, open=data.open, customer=data.customer,
        )
        budget = await add_budget(stint.uow, stint.clock, tenant=request.user.tenant, actor=request.user.user,
                                  draft=draft)
        return budget_out(budget)

    @get("/{budget_id:str}", summary="One budget",
         guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.WORKLOGS_READ)])
    async def one(self, request: TenantRequest, budget_id: FromPath[str], stint: StintDep) -> BudgetOut:
        principal = request.user
        budget = await get_budget(stint.uow, tenant=principal.tenant, viewer=viewer_of(principal),
                                  budget_id=budget_id)
        return budget_out(budget)

    @patch("/{budget_id:str}", summary="Change a budget (open: false closes it)",
           guards=[requires(Action.MANAGE_BUDGETS, Scope.ADMIN)])
    async def change(
        self, request: TenantRequest, budget_id: FromPath[str], data: JSONBody[BudgetPatch], stint: StintDep
    ) -> BudgetOut:
        def keep(value: Any, convert: Any = None) -> Any:
            if value is msgspec.UNSET:
                return KEEP
            return convert(value) if convert is not None and value is not None else value

        changes = BudgetChanges(
            name=keep(data.name), description=keep(data.description),
            limit_s=KEEP if data.hours is msgspec.UNSET else _limit_s(data.hours),
            amount=keep(data.amount, MoneyIn.money), hourly_rate=keep(data.hourly_rate, MoneyIn.money),
            starts_on=keep(data.starts_on), ends_on=keep(data.ends_on), open=keep(data.open),
            customer=keep(data.customer),
        )
        budget = await change_budget(stint.uow, stint.clock, tenant=request.user.tenant,
                                     actor=request.user.user, budget_id=budget_id,
                                     changes=changes)
        return budget_out(budget)

    @post("/{budget_id:str}/assign", summary="Assign iterations, work items and single worklogs",
          guards=[requires(Action.MANAGE_BUDGETS, Scope.ADMIN)], status_code=200)
    async def assign(
        self, request: TenantRequest, budget_id: FromPath[str], data: JSONBody[TargetsIn], stint: StintDep
    ) -> AssignOut:
        await assign_budget(stint.uow, stint.clock, tenant=request.user.tenant, actor=request.user.user,
                            budget_id=budget_id,
                            targets=data.targets())
        return AssignOut(budget_id, data.iterations, data.work_items, data.worklogs)

    @post("/{budget_id:str}/unassign", summary="Remove this budget's direct assignments",
          guards=[requires(Action.MANAGE_BUDGETS, Scope.ADMIN)], status_code=200)
    async def unassign(
        self, request: TenantRequest, budget_id: FromPath[str], data: JSONBody[TargetsIn], stint: StintDep
    ) -> UnassignOut:
        removed = await unassign_budget(stint.uow, stint.clock, tenant=request.user.tenant,
                                        actor=request.user.user,
                                        budget_id=budget_id, targets=data.targets())
        return UnassignOut(budget_id, removed)

    @get("/{budget_id:str}/usage", summary="Usage over a period (Team: its own time only)",
         guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.WORKLOGS_READ)])
    async def usage(
        self, request: TenantRequest, budget_id: FromPath[str], stint: StintDep,
        start: Annotated[str | None, QueryParameter(name="from", max_length=64)] = None,
        end: Annotated[str | None, QueryParameter(name="to", max_length=64)] = None,
    ) -> UsageOut:
        principal = request.user
        async with stint.uow() as work:
            zone = await user_zone(work.tenant(principal.tenant.id).tracking(), principal.tenant,
                                   principal.user.id)
        start_at = bound(start, "from", zone)
        end_at = bound(end, "to", zone, end=True)
        if start_at is not None and end_at is not None and end_at <= start_at:
            raise ValidationFailed("the period ends after it starts: to is not before from", field="to")
        budget, usage = await budget_usage(stint.uow, tenant=principal.tenant, viewer=viewer_of(principal),
                                           budget_id=budget_id, start=start_at, end=end_at)
        names = await user_names(stint.uow, tenant=principal.tenant, ids=[row.key for row in usage.by_user])
        zero = MoneyOut(0, usage.amount.currency)
        return UsageOut(
            budget_id=budget.id, start=start_at, end=end_at, tracked_s=usage.tracked_s,
            billable_s=usage.billable_s, amount=_money(usage.amount) or zero,
            hours_left=_hours(usage.left_s), seconds_left=usage.left_s, amount_left=_money(usage.amount_left),
            by_user=[UserUse(r.key, names.get(r.key), r.tracked_s, r.billable_s, _money(r.amount) or zero)
                     for r in usage.by_user],
            by_activity_type=[ActivityUse(r.key, r.tracked_s, r.billable_s, _money(r.amount) or zero)
                              for r in usage.by_activity_type],
            by_work_item=[WorkItemUse(r.key, r.tracked_s, r.billable_s, _money(r.amount) or zero)
                          for r in usage.by_work_item],
        )

    @get("/{budget_id:str}/statement", summary="The monthly chargeback statement (JSON, CSV or Excel)",
         guards=[requires(Action.VIEW_OWN_TIMESHEET, Scope.WORKLOGS_READ)],
         operation_class=SpreadsheetDownload)
    async def statement(
        self, request: TenantRequest, budget_id: FromPath[str], stint: StintDep,
        month: Annotated[str, QueryParameter(max_length=7)],
        format: Annotated[Literal["json", "csv", "xlsx"], QueryParameter()] = "json",
    ) -> Response[Any]:
        principal = request.user
        budget, found = await budget_statement(
            stint.uow, tenant=principal.tenant, viewer=viewer_of(principal), budget_id=budget_id, month=month
        )
        names = await user_names(stint.uow, tenant=principal.tenant,
                                 ids=list({line.user_id for line in found.lines}))
        if format == "json":
            zero = MoneyOut(0, found.currency)
            body = StatementOut(
                budget_id=budget.id, budget=budget.name, customer=budget.customer, month=found.month,
                currency=found.currency,
                lines=[
                    StatementLineOut(
                        date=line.day, worklog_id=line.worklog_id, user_id=line.user_id,
                        user=names.get(line.user_id), work_item=line.work_item,
                        work_item_title=line.work_item_title, activity_type=line.activity_type,
                        billable_s=line.billable_s, billable_hours=format_hours(line.billable_s),
                        rate=_money(line.rate), amount=_money(line.amount) or zero,
                    )
                    for line in found.lines
                ],
                totals=StatementTotals(found.billable_s, format_hours(found.billable_s),
                                       _money(found.amount) or zero),
            )
            return Response(body)
        rows = statement_rows(found, names)
        if format == "xlsx":
            content = stint.spreadsheets.write(
                rows, columns=STATEMENT_COLUMNS, number_columns=STATEMENT_NUMBERS, title="Statement"
            )
            media_type = XLSX_MEDIA_TYPE
        else:
            content, media_type = write_csv(rows, STATEMENT_COLUMNS).encode("utf-8-sig"), "text/csv"
        disposition = f'attachment; filename="budget-{budget.id}-{found.month}.{format}"'
        return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})

"""The Subscription page's API (SPEC §3, §4): view, Buy Now, quote, change, cancel, resume,
and the refused credit payout. The invoices and their PDFs are ``invoices.py``'s."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.proration.quote import Quote
from core.services.changes import (
    ChangePreview,
    RequestedChange,
    change_subscription,
    preview_subscription_change,
)
from core.services.credit import request_credit_payout
from core.services.subscriptions import (
    SubscriptionView,
    cancel_subscription,
    purchase,
    resume_subscription,
    view_subscription,
)

from ..access import requires
from ..auth import TenantPrincipal
from ..deps import StintDep
from ..schemas import MoneyOut, Strict, fraction, money
from .invoices import InvoiceOut, invoice_out

__all__ = ["SubscriptionController"]

Seats = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
PlanId = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class SubscriptionOut(msgspec.Struct):
    id: str
    plan: str
    interval: str | None
    seats: int | None
    status: str
    period_start: date | None
    period_end: date | None
    trial_ends_at: datetime | None
    licensed_users: int
    credit_balance: MoneyOut
    seat_price: MoneyOut | None
    scope: str
    scheduled_plan: str | None
    proposed_seats: int
    #: "activation_file" / "activation_online": an activated on-premises server's licence,
    #: changed at the licence service, never here (its status reads "cancelled": no local renewal).
    managed_by: str | None = None


class QuoteLineOut(msgspec.Struct):
    kind: str
    amount: MoneyOut
    days_left: int
    period_days: int
    old_day_value: str
    new_day_value: str
    exact_amount: str
    description: str


class CreditedInvoiceOut(msgspec.Struct):
    """How much of a change's credit lowers one unpaid invoice."""

    invoice_id: str
    amount: MoneyOut


class QuoteOut(msgspec.Struct):
    on: date
    lines: list[QuoteLineOut]
    total: MoneyOut
    period_start: date
    period_end: date
    scheduled_for: date | None
    interval_from_next_period: str | None
    new_plan: str
    new_interval: str
    new_seats: int
    #: The credit that lowers invoices of the period still unpaid today (credit notes) …
    against_invoices: MoneyOut
    #: … and the rest, which goes to the credit balance.
    to_credit_balance: MoneyOut
    credited_invoices: list[CreditedInvoiceOut] = msgspec.field(default_factory=list)


class PurchaseIn(Strict):
    plan: PlanId
    interval: Literal["monthly", "annual"]
    seats: Seats


class PurchaseOut(msgspec.Struct):
    subscription: SubscriptionOut
    invoice: InvoiceOut


class QuoteIn(Strict):
    seats: Seats | None = None
    plan: PlanId | None = None
    interval: Literal["monthly", "annual"] | None = None
    on: date | None = None


class ChangeIn(Strict):
    seats: Seats | None = None
    plan: PlanId | None = None
    interval: Literal["monthly", "annual"] | None = None


class ChangeOut(msgspec.Struct):
    subscription: SubscriptionOut
    lines: list[QuoteLineOut]
    total: MoneyOut
    invoice: InvoiceOut | None
    scheduled_for: date | None
    against_invoices: MoneyOut
    to_credit_balance: MoneyOut
    #: The unpaid invoices the change's credit lowered, as they are now.
    credited_invoices: list[InvoiceOut] = msgspec.field(default_factory=list)


def subscription_out(view: SubscriptionView) -> SubscriptionOut:
    sub = view.subscription
    ends = sub.trial_ends_on
    return SubscriptionOut(
        id=view.id,
        plan=sub.plan_id,
        interval=sub.interval.value if sub.interval else None,
        seats=sub.seats,
        status=sub.status.value,
        period_start=sub.period.start if sub.period else None,
        period_end=sub.period.end if sub.period else None,
        trial_ends_at=datetime.combine(ends, time(0), tzinfo=UTC) if ends else None,
        licensed_users=view.licensed_users,
        credit_balance=money(view.credit_balance, view.currency),
        seat_price=money(view.seat_price, view.currency) if view.seat_price is not None else None,
        scope=view.scope,
        scheduled_plan=sub.scheduled_plan_id,
        proposed_seats=view.proposed_seats,
        managed_by=view.managed_by,
    )


def quote_lines(quote: Quote) -> list[QuoteLineOut]:
    return [
        QuoteLineOut(
            kind=line.kind,
            amount=money(line.amount, quote.currency),
            days_left=line.days_left,
            period_days=line.period_days,
            old_day_value=fraction(line.old_day_value),
            new_day_value=fraction(line.new_day_value),
            exact_amount=fraction(line.exact_amount),
            description=line.description,
        )
        for line in quote.lines
    ]


def quote_out(preview: ChangePreview) -> QuoteOut:
    quote = preview.quote
    c = quote.currency
    by_invoice: dict[str, int] = {}
    for note in preview.credit_notes:
        by_invoice[note.invoice_id] = by_invoice.get(note.invoice_id, 0) + note.amount
    return QuoteOut(
        on=quote.on,
        lines=quote_lines(quote),
        total=money(quote.total, quote.currency),
        period_start=quote.period.start,
        period_end=quote.period.end,
        scheduled_for=quote.scheduled_for,
        interval_from_next_period=quote.interval_from_next_period.value
        if quote.interval_from_next_period
        else None,
        new_plan=quote.new.plan_id,
        new_interval=quote.new.interval.value,
        new_seats=quote.new.seats,
        against_invoices=money(preview.against_invoices, c),
        to_credit_balance=money(preview.to_credit_balance, c),
        credited_invoices=[
            CreditedInvoiceOut(invoice_id=invoice_id, amount=money(amount, c))
            for invoice_id, amount in by_invoice.items()
        ],
    )


class SubscriptionController(Controller):
    path = "/subscription"
    tags = ("subscription",)

    @get("/", summary="The subscription", guards=[requires(Action.VIEW_SUBSCRIPTION, Scope.ADMIN)])
    async def show(self, request: Request[TenantPrincipal, Any, Any], stint: StintDep) -> SubscriptionOut:
        return subscription_out(await view_subscription(stint.uow, stint.clock, tenant=request.user.tenant))

    @post("/purchase", status_code=200, summary="Buy Now", guards=[requires(Action.PURCHASE, Scope.ADMIN)])
    async def buy(
        self, request: Request[TenantPrincipal, Any, Any], data: JSONBody[PurchaseIn], stint: StintDep
    ) -> PurchaseOut:
        principal = request.user
        view, invoice = await purchase(
            stint.uow,
            stint.billing,
            stint.clock,
            tenant=principal.tenant,
            actor=principal.user,
            plan_id=data.plan,
            interval=data.interval,
            seats=data.seats,
        )
        return PurchaseOut(subscription=subscription_out(view), invoice=invoice_out(invoice))

    @post(
        "/quote", status_code=200, summary="Preview a change",
        guards=[requires(Action.MANAGE_SUBSCRIPTION, Scope.ADMIN)]
    )
    async def quote(
        self, request: Request[TenantPrincipal, Any, Any], data: JSONBody[QuoteIn], stint: StintDep
    ) -> QuoteOut:
        result = await preview_subscription_change(
            stint.uow,
            stint.clock,
            tenant=request.user.tenant,
            requested=RequestedChange(seats=data.seats, plan_id=data.plan, interval=data.interval),
            on=data.on,
        )
        return quote_out(result)

    @post(
        "/change",
        status_code=200,
        summary="Change seats, plan or interval",
        guards=[requires(Action.MANAGE_SUBSCRIPTION, Scope.ADMIN)],
    )
    async def change(
        self, request: Request[TenantPrincipal, Any, Any], data: JSONBody[ChangeIn], stint: StintDep
    ) -> ChangeOut:
        principal = request.user
        result = await change_subscription(
            stint.uow,
            stint.billing,
            stint.clock,
            tenant=principal.tenant,
            actor=principal.user,
            requested=RequestedChange(seats=data.seats, plan_id=data.plan, interval=data.interval),
        )
        return ChangeOut(
            subscription=subscription_out(result.view),
            lines=quote_lines(result.quote),
            total=money(result.quote.total, result.quote.currency),
            invoice=invoice_out(result.invoice) if result.invoice else None,
            scheduled_for=result.quote.scheduled_for,
            against_invoices=money(result.against_invoices, result.quote.currency),
            to_credit_balance=money(result.to_credit_balance, result.quote.currency),
            credited_invoices=[invoice_out(invoice) for invoice in result.credited_invoices],
        )

    @post(
        "/cancel",
        status_code=200,
        summary="Cancel (no renewal)",
        guards=[requires(Action.MANAGE_SUBSCRIPTION, Scope.ADMIN)],
    )
    async def cancel(self, request: Request[TenantPrincipal, Any, Any], stint: StintDep) -> SubscriptionOut:
        principal = request.user
        view = await cancel_subscription(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user
        )
        return subscription_out(view)

    @post("/resume", status_code=200, summary="Undo a cancel",
          guards=[requires(Action.MANAGE_SUBSCRIPTION, Scope.ADMIN)])
    async def resume(self, request: Request[TenantPrincipal, Any, Any], stint: StintDep) -> SubscriptionOut:
        principal = request.user
        view = await resume_subscription(
            stint.uow, stint.clock, tenant=principal.tenant, actor=principal.user
        )
        return subscription_out(view)

    @post(
        "/credit/payout",
        status_code=409,
        summary="Refused: credit is never paid out",
        guards=[requires(Action.VIEW_SUBSCRIPTION, Scope.ADMIN)],
    )
    async def payout(self, request: Request[TenantPrincipal, Any, Any], stint: StintDep) -> None:
        await request_credit_payout(stint.uow, tenant=request.user.tenant)

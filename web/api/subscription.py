"""The Subscription page's API (SPEC §3, §4): view, Buy Now, quote, change, cancel, resume,
invoices, and the refused credit payout."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath, JSONBody, QueryParameter

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.proration.invoice import Invoice
from core.proration.quote import Quote
from core.services.changes import (
    ChangePreview,
    RequestedChange,
    change_subscription,
    preview_subscription_change,
)
from core.services.credit import request_credit_payout
from core.services.invoice_documents import invoice_file
from core.services.subscriptions import (
    SubscriptionView,
    cancel_subscription,
    purchase,
    resume_subscription,
    view_subscription,
)
from plugins.i18n import texts_for

from ..access import requires
from ..auth import TenantPrincipal
from ..deps import StintDep
from ..schemas import MoneyOut, Strict, cursor_text, opaque_cursor

__all__ = ["InvoicesController", "SubscriptionController"]

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


class InvoiceLineOut(msgspec.Struct):
    kind: str
    description: str
    amount: MoneyOut
    starts_on: date
    ends_on: date


class CreditNoteOut(msgspec.Struct):
    """A credit note against the invoice: ``amount`` came off its amount due."""

    id: str
    amount: MoneyOut
    reason: str
    issued_on: date
    description: str
    days_left: int
    period_days: int
    exact_amount: str


class InvoiceOut(msgspec.Struct):
    id: str
    #: The human number, ``STINT-2026-000123``: the billing account's gap-free sequence.
    number: str | None
    issued_on: date
    lines: list[InvoiceLineOut]
    total: MoneyOut
    credit_applied: MoneyOut
    amount_due: MoneyOut
    status: str
    #: ``amount_due = total − credit_applied − Σ credit_notes.amount``.
    credit_notes: list[CreditNoteOut] = msgspec.field(default_factory=list)


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


class InvoicePage(msgspec.Struct):
    items: list[InvoiceOut]
    next_cursor: str | None


def money(amount: int, currency: str) -> MoneyOut:
    return MoneyOut(amount=amount, currency=currency)


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


def invoice_out(invoice: Invoice) -> InvoiceOut:
    c = invoice.currency
    return InvoiceOut(
        id=invoice.id,
        number=invoice.number_text,
        issued_on=invoice.issued_on,
        lines=[
            InvoiceLineOut(
                kind=line.kind,
                description=line.description,
                amount=money(line.amount, c),
                starts_on=line.starts_on,
                ends_on=line.ends_on,
            )
            for line in invoice.lines
        ],
        total=money(invoice.total, c),
        credit_applied=money(invoice.credit_applied, c),
        amount_due=money(invoice.amount_due, c),
        status=invoice.status,
        credit_notes=[
            CreditNoteOut(
                id=note.id,
                amount=money(note.amount, c),
                reason=note.reason,
                issued_on=note.issued_on,
                description=note.description,
                days_left=note.days_left,
                period_days=note.period_days,
                exact_amount=_fraction(note.exact_amount),
            )
            for note in invoice.credit_notes
        ],
    )


def _fraction(value: Any) -> str:
    # Exact rationals as "p/q" (or an integer), so clients can recompute without float error.
    return str(value)


def quote_lines(quote: Quote) -> list[QuoteLineOut]:
    return [
        QuoteLineOut(
            kind=line.kind,
            amount=money(line.amount, quote.currency),
            days_left=line.days_left,
            period_days=line.period_days,
            old_day_value=_fraction(line.old_day_value),
            new_day_value=_fraction(line.new_day_value),
            exact_amount=_fraction(line.exact_amount),
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


class PdfDownload(Operation):
    """The invoice PDF's OpenAPI operation: its 200 is a PDF file, not JSON."""

    def __post_init__(self) -> None:
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(
                description="The invoice as a PDF (Content-Disposition: attachment; STINT-YYYY-NNNNNN.pdf)",
                content={
                    "application/pdf": OpenAPIMediaType(
                        schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
                    ),
                },
            ),
        }


class InvoicesController(Controller):
    path = "/invoices"
    tags = ("subscription",)

    @get(
        "/{invoice_id:str}/pdf",
        summary="The invoice as a PDF",
        guards=[requires(Action.VIEW_SUBSCRIPTION, Scope.ADMIN)],
        operation_class=PdfDownload,
    )
    async def pdf(
        self,
        request: Request[TenantPrincipal, Any, Any],
        stint: StintDep,
        invoice_id: FromPath[str],
    ) -> Response[bytes]:
        document = await invoice_file(
            stint.uow, stint.invoice_documents, tenant=request.user.tenant, invoice_id=invoice_id,
            seller=stint.seller, texts=texts_for(request.user.user.locale),
        )
        return Response(
            document.content,
            media_type=document.media_type,
            headers={"Content-Disposition": f'attachment; filename="{document.filename}"'},
        )

    @get("/", summary="Invoices, newest first", guards=[requires(Action.VIEW_SUBSCRIPTION, Scope.ADMIN)])
    async def list(
        self,
        request: Request[TenantPrincipal, Any, Any],
        stint: StintDep,
        cursor: Annotated[str, QueryParameter(max_length=100)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> InvoicePage:
        after = cursor_text(cursor) if cursor else ""
        async with stint.uow() as work:
            invoices = await work.tenant(request.user.tenant.id).invoices().list(
                after=after, limit=limit + 1
            )
        more = len(invoices) > limit
        page = invoices[:limit]
        next_cursor = opaque_cursor(page[-1].cursor) if more else None
        return InvoicePage(items=[invoice_out(listed.invoice) for listed in page], next_cursor=next_cursor)

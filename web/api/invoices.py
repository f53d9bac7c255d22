"""``/api/v1/invoices``: a tenant's invoices, newest first, and each one as a PDF.

Also the invoice's shape (lines, credit notes, amount due), which the subscription's
answers (``subscription.py``: Buy Now, a change) and the operator console's carry too.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath, QueryParameter

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.proration.invoice import Invoice
from core.services.invoice_documents import invoice_file
from plugins.i18n import texts_for

from ..access import requires
from ..auth import TenantPrincipal
from ..deps import StintDep
from ..schemas import MoneyOut, cursor_text, fraction, money, opaque_cursor

__all__ = ["InvoiceOut", "InvoicesController", "invoice_out"]


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


class InvoicePage(msgspec.Struct):
    items: list[InvoiceOut]
    next_cursor: str | None


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
                exact_amount=fraction(note.exact_amount),
            )
            for note in invoice.credit_notes
        ],
    )


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

"""An invoice as a document (the PDF a customer downloads, SPEC §4): the seller (this Stint's
operator, from the settings), the buyer (the tenant and its billing details), the invoice."""

from __future__ import annotations

from dataclasses import dataclass

from core.billing import InvoiceDocument, InvoiceRenderer, Party
from core.errors import NotFound
from core.tenancy import Tenant
from core.texts import PLAIN, Texts
from core.unit_of_work import UnitOfWorkFactory

__all__ = ["InvoiceFile", "InvoiceNotFound", "invoice_file"]


class InvoiceNotFound(NotFound):
    """No such invoice in the tenant's billing account; another account's is exactly as absent."""


@dataclass(frozen=True, slots=True)
class InvoiceFile:
    filename: str
    media_type: str
    content: bytes


async def invoice_file(
    uow: UnitOfWorkFactory, renderer: InvoiceRenderer, *, tenant: Tenant, invoice_id: str, seller: Party,
    texts: Texts = PLAIN,
) -> InvoiceFile:
    """The invoice ``invoice_id`` of the tenant's billing account, rendered in the reader's
    language (``texts``: the downloading user's)."""
    async with uow() as work:
        stored = await work.tenant(tenant.id).invoices().get(invoice_id)
        if stored is None:
            raise InvoiceNotFound(f"there is no invoice {invoice_id}")
        customer = await work.payments().customer(tenant.subscription_id)
    details = [texts.tr("Tenant: %(slug)s", slug=tenant.slug)]
    if customer.email:
        details.append(customer.email)
    if customer.card_brand and customer.card_last4:
        details.append(texts.tr("Paid by %(brand)s card ending %(last4)s", brand=customer.card_brand,
                                last4=customer.card_last4))
    document = InvoiceDocument(
        invoice=stored.invoice,
        kind=stored.kind,
        seller=seller,
        buyer=Party(tenant.name, tuple(details)),
        account=tenant.subscription_id,
        texts=texts,
    )
    name = stored.invoice.number_text or stored.invoice.id
    return InvoiceFile(f"{name}.pdf", renderer.media_type, renderer.render(document))

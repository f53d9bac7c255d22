"""Manual invoicing: the default billing rail when no payment provider is configured.

Invoices stay ``due`` in Stint until an operator marks them paid (operator API); this
adapter only records that an invoice awaits payment.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from core.proration.credit_note import CreditNote
from core.proration.invoice import Invoice
from core.tenancy import Tenant

__all__ = ["ManualBilling"]

log = logging.getLogger("stint.billing")


class ManualBilling:
    async def collect(self, tenant: Tenant, invoice: Invoice) -> None:
        if invoice.amount_due > 0:
            log.info(
                "invoice awaits manual payment",
                extra={"tenant": tenant.slug, "invoice": invoice.id, "amount_due": invoice.amount_due},
            )

    async def credit(self, tenant: Tenant, invoice: Invoice, notes: Sequence[CreditNote]) -> None:
        # Stint's invoice is the only record: its lowered amount due is what the operator collects.
        log.info(
            "invoice lowered by credit notes",
            extra={
                "tenant": tenant.slug,
                "invoice": invoice.id,
                "credit_notes": [note.id for note in notes],
                "amount_due": invoice.amount_due,
            },
        )

"""A tenant's credit balance (SPEC §4): credit is never paid out, it pays later invoices."""

from __future__ import annotations

from typing import NoReturn

from core.tenancy import Tenant
from core.unit_of_work import UnitOfWorkFactory

__all__ = ["request_credit_payout"]


async def request_credit_payout(uow: UnitOfWorkFactory, *, tenant: Tenant) -> NoReturn:
    """Refused by the credit ledger's own rule (``CreditLedger.request_payout``), which names
    the balance it keeps for the tenant's billing account and its currency."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        terms = await scope.subscriptions().terms()
        ledger = await scope.invoices().ledger(terms.currency)
    ledger.request_payout()

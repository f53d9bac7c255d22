"""Stripe as Stint's payment rail (``core.billing.ports.Billing`` and ``HostedPayments``).

Stint computes every amount; this only copies an invoice Stint already committed into
Stripe and asks Stripe to collect it:

1. under the billing account's lock: the Stripe customer (made once per account), one
   invoice item per Stint line, plus one negative "credit applied" item when Stint's credit
   balance paid part of it, then one invoice that takes exactly those items — so the Stripe
   invoice's total is Stint's ``amount_due``, and credit is never a Stripe balance that
   could be paid out;
2. finalise it, and pay it with the customer's default payment method (or leave it open
   until Buy Now's hosted checkout has collected one).

A credit note Stint issues against an unpaid invoice (a decrease while the seats are
unpaid, SPEC §4) follows it: an invoice not yet in Stripe is built with one negative item
per note; one already finalised gets a Stripe credit note of the same amount, which
lowers its amount due. Before charging, the Stripe invoice's amount due is checked against
Stint's: when Stripe would take more (its credit note could not be made), nothing is
charged and the push reports the difference, so the retry job tries again. An invoice is
never voided and re-issued behind the customer's back.

Invoices fully paid by credit are never sent. Each step records how far it got
(``billing_remote_invoice``), so a retry resumes where the last attempt stopped, and every
Stripe write carries an idempotency key made from Stint's invoice id.

The push itself (creating, finalising, checking, charging, crediting) is
``pushing.InvoicePushing``, a part of :class:`StripeBilling`; this module holds the port's
entry points, the hosted pages, the retry job and the billing account's customer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import stripe

from core.billing.ports import BillingCustomer, RemoteInvoice
from core.clock import Clock
from core.errors import Conflict
from core.proration.credit_note import CreditNote
from core.proration.invoice import Invoice
from core.tenancy import Tenant, User
from core.unit_of_work import UnitOfWorkFactory

from .gateway import StripeGateway
from .pushing import InvoicePushing

__all__ = ["StripeBilling"]

log = logging.getLogger("stint.billing.stripe")

#: The retry job leaves an invoice this young to the request that is pushing it.
RETRY_AFTER = timedelta(minutes=5)


class StripeBilling(InvoicePushing):
    def __init__(
        self,
        gateway: StripeGateway,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        base_url: str,
    ) -> None:
        self.gateway = gateway
        self.uow = uow
        self.clock = clock
        self.base_url = base_url.rstrip("/")

    # core.billing.ports.Billing ---------------------------------------------------------------

    async def collect(self, tenant: Tenant, invoice: Invoice) -> None:
        """Send the committed invoice to Stripe and charge it; a failure is logged and retried later.

        It never raises: the invoice is committed in Stint either way, and
        :meth:`resume_account` (after a new card, or from a job) picks it up again.
        """
        if invoice.amount_due <= 0:
            return  # paid by credit: nothing for Stripe to collect
        try:
            await self.push(invoice.id, name=tenant.name)
        except (stripe.StripeError, Conflict) as exc:
            log.warning(
                "invoice not collected yet",
                extra={"invoice": invoice.id, "tenant": tenant.slug, "error": str(exc)},
            )

    async def credit(self, tenant: Tenant, invoice: Invoice, notes: Sequence[CreditNote]) -> None:
        """Bring Stint's credit notes to the invoice in Stripe; a failure is logged, never raised.

        Not yet in Stripe: nothing to do, the push builds it with the notes as negative items.
        In Stripe: a Stripe credit note per Stint note (finalising a draft first, as Stripe
        only credits finalised invoices). Whatever fails here, the check before any charge
        keeps Stripe from collecting more than Stint's amount due.
        """
        try:
            async with self.uow() as work:
                remote = await work.payments().remote_invoice(invoice.id)
            if remote is None or remote.remote_id is None:
                return
            await self._credit_remote(remote, notes)
        except (stripe.StripeError, Conflict) as exc:
            log.warning(
                "credit note not in Stripe yet: the invoice will not be charged until it is",
                extra={"invoice": invoice.id, "tenant": tenant.slug, "error": str(exc)},
            )

    # Hosted pages ----------------------------------------------------------------------

    async def checkout(self, tenant: Tenant, user: User) -> str:
        account, _ = await self._account_of(tenant)
        customer = await self._ensure_customer(account, name=tenant.name, email=user.email)
        assert customer.customer_id is not None
        session = await self.gateway.checkout_session(
            customer_id=customer.customer_id,
            success_url=f"{self.base_url}/settings/subscription?checkout=done",
            cancel_url=f"{self.base_url}/settings/subscription?checkout=cancelled",
            account=account,
            currency="usd",
        )
        return str(session.url)

    async def portal(self, tenant: Tenant) -> str:
        account, _ = await self._account_of(tenant)
        async with self.uow() as work:
            customer = await work.payments().customer(account)
        if customer.customer_id is None:
            raise Conflict("There is no payment method on file yet; use Buy Now first.")
        session = await self.gateway.portal_session(
            customer_id=customer.customer_id, return_url=f"{self.base_url}/settings/subscription"
        )
        return str(session.url)

    async def retry_unsent(self, *, batch: int = 200, min_age: timedelta = RETRY_AFTER) -> dict[str, int]:
        """Push again every due invoice that did not reach Stripe, or was not charged (the job).

        Pages through due invoices by id (``PaymentRecords.unsent_invoices``); each push
        resumes where the last one stopped, with the same idempotency keys, so nothing is
        made or charged twice. Invoices younger than ``min_age`` are left to the request
        that is pushing them; declined ones wait for a new card (Stripe retries those).
        """
        counts = {"checked": 0, "paid": 0, "open": 0, "failed": 0, "errors": 0}
        before = self.clock.now() - min_age
        after = ""
        while True:
            async with self.uow() as work:
                page = await work.payments().unsent_invoices(after=after, limit=batch, created_before=before)
            for invoice_id in page.ids:
                counts["checked"] += 1
                try:
                    state = (await self.push(invoice_id)).state
                except (stripe.StripeError, Conflict) as exc:
                    counts["errors"] += 1
                    log.warning("invoice not collected yet", extra={"invoice": invoice_id, "error": str(exc)})
                    continue
                key = state if state in ("paid", "open", "failed") else "errors"
                counts[key] += 1
            if page.next_after is None:
                return counts
            after = page.next_after

    async def resume_account(self, subscription_id: str) -> list[RemoteInvoice]:
        """Push every invoice of the account that still waits for money (after a new card, or a job)."""
        async with self.uow() as work:
            due = await work.payments().due_invoice_ids(subscription_id)
        done = []
        for invoice_id in due:
            try:
                done.append(await self.push(invoice_id))
            except (stripe.StripeError, Conflict) as exc:
                log.warning("invoice not collected yet", extra={"invoice": invoice_id, "error": str(exc)})
        return done

    # Accounts ----------------------------------------------------------------------------

    async def _account_of(self, tenant: Tenant) -> tuple[str, str]:
        """(subscription id, scope) — the billing account a tenant pays through."""
        async with self.uow() as work:
            scope = work.tenant(tenant.id)
            sub_id = await scope.subscriptions().id()
            kind = (await scope.subscriptions().terms()).scope
        return sub_id, kind

    async def _ensure_customer(self, account: str, *, name: str, email: str | None) -> BillingCustomer:
        async with self.uow(write=True) as work:
            payments = work.payments()
            customer = await payments.customer(account, for_update=True)
            if customer.customer_id is None:
                created = await self.gateway.create_customer(name=name, email=email, account=account)
                customer = replace(customer, customer_id=created.id, email=email)
                await payments.save_customer(customer, self.clock.now())
            await work.commit()
        return customer

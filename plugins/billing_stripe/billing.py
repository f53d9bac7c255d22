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
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import stripe

from core.billing.ports import BillingCustomer, RemoteInvoice
from core.clock import Clock
from core.errors import Conflict
from core.proration.credit_note import CreditNote
from core.proration.invoice import Invoice
from core.tenancy import Tenant, User
from core.unit_of_work import UnitOfWorkFactory

from .gateway import StripeGateway

__all__ = ["CREDIT_LINE", "StripeBilling"]

log = logging.getLogger("stint.billing.stripe")

CREDIT_LINE = "Credit applied from your Stint credit balance"
#: The retry job leaves an invoice this young to the request that is pushing it.
RETRY_AFTER = timedelta(minutes=5)


class StripeBilling:
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

    async def _credit_remote(self, remote: RemoteInvoice, notes: Sequence[CreditNote]) -> None:
        remote_id = remote.remote_id
        assert remote_id is not None
        found = await self.gateway.invoice(remote_id)
        if found.status == "draft":
            await self.gateway.finalize(remote_id, key=f"stint-{remote.invoice_id}-finalize")
        elif found.status not in ("open", "uncollectible"):
            # Paid there meanwhile: a credit note now would be a refund, which is not Stint's rule.
            raise Conflict(f"Stripe invoice {remote_id} is {found.status}; its credit note was not issued")
        # Idempotency keys last 24 hours; the notes already there are looked up, so a late
        # retry never credits twice.
        present = set()
        for made in await self.gateway.credit_notes_of(remote_id):
            meta = getattr(made, "metadata", None)
            present.add((meta.to_dict() if meta is not None else {}).get("stint_credit_note_id"))
        for note in notes:
            if note.id in present:
                continue
            await self.gateway.create_credit_note(
                invoice_id=remote_id,
                amount=note.amount,
                memo=f"Stint credit note {note.id}: {note.description}",
                metadata={"stint_credit_note_id": note.id, "stint_invoice_id": remote.invoice_id},
                key=f"stint-{note.id}-credit-note",
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

    # Pushing one invoice ---------------------------------------------------------------

    async def push(self, invoice_id: str, *, name: str | None = None) -> RemoteInvoice:
        """Bring one Stint invoice as far as it can go in Stripe (created, finalised, charged)."""
        async with self.uow() as work:
            payments = work.payments()
            invoice = await payments.invoice(invoice_id)
            account = await payments.invoice_account(invoice_id)
            remote = await payments.remote_invoice(invoice_id)
        if invoice is None or account is None:
            raise Conflict(f"no invoice {invoice_id}")
        tenant_id, sub_id = account.tenant_id, account.subscription_id
        if remote is None:
            remote = RemoteInvoice(invoice_id, sub_id, tenant_id)
        if remote.state == "paid" or invoice.status != "due" or invoice.amount_due <= 0:
            return remote
        if remote.remote_id is None:
            remote = await self._create_remote(invoice, remote, name or sub_id)
        return await self._advance(remote, invoice)

    async def _create_remote(self, invoice: Invoice, remote: RemoteInvoice, name: str) -> RemoteInvoice:
        """Items and invoice in Stripe, under the account's lock.

        Stripe's invoice takes the customer's pending items, so two invoices of one
        account must not be built at once (a web request and a renewal job, say): the lock
        on the account's customer row serialises them, across processes too.
        """
        now = self.clock.now()
        async with self.uow(write=True) as work:
            payments = work.payments()
            customer = await payments.customer(remote.subscription_id, for_update=True)
            current = await payments.remote_invoice(invoice.id)
            if current is not None and current.remote_id is not None:
                return current  # another worker got here first
            if customer.customer_id is None:
                created = await self.gateway.create_customer(
                    name=name, email=customer.email, account=remote.subscription_id
                )
                customer = replace(customer, customer_id=created.id)
                await payments.save_customer(customer, now)
            assert customer.customer_id is not None
            remote_id = await self._build_invoice(customer.customer_id, invoice, remote)
            remote = replace(remote, remote_id=remote_id, state="draft")
            await payments.save_remote_invoice(remote, now)
            await work.commit()
        return remote

    async def _build_invoice(self, customer_id: str, invoice: Invoice, remote: RemoteInvoice) -> str:
        made = await self._made_before(customer_id, invoice)
        if made is not None:
            return made
        wanted: list[tuple[str, int, str]] = [
            (str(n), line.amount, f"{line.description} ({line.starts_on} – {line.ends_on})")
            for n, line in enumerate(invoice.lines)
        ]
        if invoice.credit_applied:
            # A negative item, never a Stripe customer balance: credit stays Stint's.
            wanted.append(("credit", -invoice.credit_applied, CREDIT_LINE))
        for note in invoice.credit_notes:
            wanted.append((f"note-{note.id}", -note.amount, f"Credit note {note.id}: {note.description}"))
        present: set[str] = set()
        for item in await self.gateway.pending_items(customer_id):
            found = getattr(item, "metadata", None)
            meta: dict[str, Any] = found.to_dict() if found is not None else {}
            owner = meta.get("stint_invoice_id")
            if owner == invoice.id and meta.get("stint_line") not in present:
                present.add(str(meta.get("stint_line")))
            elif owner:
                # Left by an interrupted push of another Stint invoice, which writes it again
                # when it resumes; on this invoice it would be charged with the wrong one.
                await self.gateway.delete_item(item.id)
            else:
                raise Conflict(f"Stripe customer {customer_id} has pending items Stint did not write")
        for key, amount, text in wanted:
            if key in present:
                continue
            await self.gateway.create_item(
                customer_id=customer_id,
                amount=amount,
                currency=invoice.currency,
                description=text,
                metadata={"stint_invoice_id": invoice.id, "stint_line": key},
                key=f"stint-{invoice.id}-item-{key}",
            )
        created = await self.gateway.create_invoice(
            customer_id=customer_id,
            description=f"Stint invoice {invoice.number_text or invoice.id} of {invoice.issued_on}",
            metadata={
                "stint_invoice_id": invoice.id,
                # The number the customer's PDF shows, to match the two.
                "stint_invoice_number": invoice.number_text or "",
                "stint_subscription_id": remote.subscription_id,
                "stint_tenant_id": remote.tenant_id,
            },
            key=f"stint-{invoice.id}-invoice",
        )
        if int(created.amount_due) != invoice.amount_due:
            raise Conflict(
                f"Stripe invoice {created.id} asks {created.amount_due};"
                f" Stint's invoice {invoice.id} is due {invoice.amount_due}"
            )
        return str(created.id)

    async def _made_before(self, customer_id: str, invoice: Invoice) -> str | None:
        """The Stripe invoice an earlier push made for this one but never recorded (its answer lost).

        Idempotency keys cover a retry for 24 hours; a retry later than that (the
        stripe_retry job after a long outage) would make the items and invoice again, and a
        second invoice for the same Stint invoice could be charged too. Looking first
        closes that gap whatever the delay.
        """
        for found in await self.gateway.invoices_of(customer_id):
            meta = getattr(found, "metadata", None)
            owner = (meta.to_dict() if meta is not None else {}).get("stint_invoice_id")
            if owner != invoice.id or getattr(found, "status", None) == "void":
                continue
            if int(found.amount_due) != invoice.amount_due:
                raise Conflict(
                    f"Stripe invoice {found.id} asks {found.amount_due};"
                    f" Stint's invoice {invoice.id} is due {invoice.amount_due}"
                )
            return str(found.id)
        return None

    async def _advance(self, remote: RemoteInvoice, invoice: Invoice) -> RemoteInvoice:
        """Finalise, then charge the default payment method if the customer has one."""
        remote_id = remote.remote_id
        assert remote_id is not None
        found = await self.gateway.invoice(remote_id)
        if found.status == "draft":
            found = await self.gateway.finalize(remote_id, key=f"stint-{remote.invoice_id}-finalize")
        if found.status == "paid":
            return await self._save(replace(remote, state="paid"))
        if found.status not in ("open", "uncollectible"):
            return await self._save(replace(remote, state=str(found.status)))
        if int(found.amount_due) > invoice.amount_due and invoice.credit_notes:
            # A credit note Stint issued after the invoice reached Stripe is not there yet:
            # (re)issue it (same keys) and look again; charging first would take too much.
            try:
                await self._credit_remote(remote, invoice.credit_notes)
            except stripe.StripeError as exc:
                log.warning(
                    "credit note not accepted by Stripe", extra={"invoice": invoice.id, "error": str(exc)}
                )
            found = await self.gateway.invoice(remote_id)
        if int(found.amount_due) != invoice.amount_due:
            problem = (
                f"Stripe invoice {remote_id} asks {found.amount_due};"
                f" Stint's invoice {invoice.id} is due {invoice.amount_due}: not charged"
            )
            await self._save(replace(remote, state="open", last_error=problem))
            raise Conflict(problem)
        customer = await self.gateway.customer(str(found.customer))
        settings = getattr(customer, "invoice_settings", None)
        if not (settings and getattr(settings, "default_payment_method", None)):
            # Waits for Buy Now's checkout (or the portal) to give the customer a card.
            return await self._save(replace(remote, state="open"))
        # The attempt is stored before the call ("paying"). If its answer never comes
        # (timeout, Stripe down), the retry repeats that attempt under the same key, so
        # Stripe answers it once; an attempt whose answer came (a decline) is over, and the
        # next one, with a new card, gets a new key.
        if remote.state != "paying":
            remote = await self._save(replace(remote, state="paying", pay_attempts=remote.pay_attempts + 1))
        try:
            paid = await self.gateway.pay(
                remote_id, key=f"stint-{remote.invoice_id}-pay-{remote.pay_attempts}"
            )
        except stripe.CardError as exc:
            return await self._save(replace(remote, state="failed", last_error=str(exc.user_message or exc)))
        except stripe.InvalidRequestError:
            paid = await self.gateway.invoice(remote_id)  # e.g. paid meanwhile
        state = "paid" if paid.status == "paid" else "failed" if paid.status == "open" else str(paid.status)
        return await self._save(
            replace(remote, state=state, last_error=None if state == "paid" else remote.last_error)
        )

    async def _save(self, remote: RemoteInvoice) -> RemoteInvoice:
        async with self.uow(write=True) as work:
            await work.payments().save_remote_invoice(remote, self.clock.now())
            await work.commit()
        return remote

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

"""Pushing one Stint invoice into Stripe, the steps ``billing.py``'s docstring describes:
the customer, the invoice's items and the invoice made under the account's lock, then
finalised, checked against Stint's amount due and charged, each step recorded in
``billing_remote_invoice`` so that a retry resumes where the last attempt stopped; and
Stint's credit notes brought to an invoice already in Stripe.

``InvoicePushing`` is a part of ``StripeBilling`` rather than an object it forwards to, as
``PiccoloTrackingRepo``'s parts are: it has methods only, and uses the gateway, unit of work
and clock ``StripeBilling.__init__`` sets, so the push always goes through the gateway
``StripeBilling.gateway`` holds at the time (``StripeProvider`` reads the same one, and the
tests swap it for a dead one to play an outage)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import stripe

from core.billing.ports import RemoteInvoice
from core.clock import Clock
from core.errors import Conflict
from core.proration.credit_note import CreditNote
from core.proration.invoice import Invoice
from core.unit_of_work import UnitOfWorkFactory

from .gateway import StripeGateway

__all__ = ["CREDIT_LINE", "InvoicePushing"]

log = logging.getLogger("stint.billing.stripe")

CREDIT_LINE = "Credit applied from your Stint credit balance"


class InvoicePushing:
    """``StripeBilling``'s push; the attributes are set by ``StripeBilling.__init__``."""

    gateway: StripeGateway
    uow: UnitOfWorkFactory
    clock: Clock

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

    # Credit notes in Stripe ----------------------------------------------------------

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


"""The payment provider as the billing rules read it (``core.billing.PaymentProvider``) and
what they have it do (``ProviderActions``), in memory, as ``plugins/billing_stripe/provider.py``
answers them."""

from __future__ import annotations

from dataclasses import replace

from core.billing import PaymentProviderUnavailable, ProviderCustomer, ProviderInvoiceStatus

from .unit_of_work import FakeUnitOfWorkFactory

__all__ = ["FakePaymentProvider"]


class FakePaymentProvider:
    """Answers from what the test sets; records every read (``reads``) and action.

    Given the unit-of-work factory, every call refuses to run while one of its units of work
    is open: a use case must not hold a database connection (or SQLite's write lock) while
    it waits on the provider. ``unavailable`` makes every call raise as Stripe down does.
    """

    def __init__(self, uow: FakeUnitOfWorkFactory | None = None) -> None:
        self.uow = uow
        self.unavailable = False
        #: Remote invoice id → its status at the provider now.
        self.invoices: dict[str, ProviderInvoiceStatus] = {}
        #: Customer id → the customer as the provider has it now.
        self.customers: dict[str, ProviderCustomer] = {}
        #: Checkout session id → the payment method it collected (absent: none).
        self.checkouts: dict[str, str] = {}
        self.reads: list[str] = []
        self.defaults_set: list[tuple[str, str]] = []
        self.resumed: list[str] = []

    def _call(self, what: str) -> None:
        if self.uow is not None and self.uow.open_units:
            raise AssertionError(f"the provider was asked to {what} inside an open unit of work")
        if self.unavailable:
            raise PaymentProviderUnavailable(f"the provider could not {what}; retry later")

    async def invoice_status(self, remote_invoice_id: str) -> ProviderInvoiceStatus:
        self._call("read an invoice")
        self.reads.append(f"invoice:{remote_invoice_id}")
        return self.invoices.get(remote_invoice_id, ProviderInvoiceStatus.OTHER)

    async def customer(self, customer_id: str) -> ProviderCustomer:
        self._call("read a customer")
        self.reads.append(f"customer:{customer_id}")
        return self.customers.get(customer_id) or ProviderCustomer(customer_id)

    async def default_payment_method(self, customer_id: str) -> str | None:
        self._call("read a default payment method")
        self.reads.append(f"default:{customer_id}")
        found = self.customers.get(customer_id)
        return found.payment_method_id if found else None

    async def checkout_payment_method(self, session_id: str) -> str | None:
        self._call("read a checkout")
        self.reads.append(f"checkout:{session_id}")
        return self.checkouts.get(session_id)

    async def set_default_payment_method(self, customer_id: str, payment_method_id: str) -> None:
        self._call("set a default payment method")
        self.defaults_set.append((customer_id, payment_method_id))
        found = self.customers.get(customer_id) or ProviderCustomer(customer_id)
        self.customers[customer_id] = replace(found, payment_method_id=payment_method_id)

    async def resume_account(self, subscription_id: str) -> None:
        self._call("collect an account's invoices")
        self.resumed.append(subscription_id)

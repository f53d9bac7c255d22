"""Billing: invoices and credit of a billing account, the payment rail and the provider's
records (SPEC §4, §10). Amounts are computed by :mod:`core.proration`; this context owns
what happens to them."""

from core.billing.ports import (
    Billing,
    BillingCustomer,
    CreditAppend,
    DueSubscription,
    HostedPayments,
    InvoiceAccount,
    InvoicePage,
    Invoices,
    ListedInvoice,
    NewInvoice,
    PaymentRecords,
    RemoteInvoice,
    RenewalStore,
    RenewedSubscription,
    StoredInvoice,
)

__all__ = [
    "Billing",
    "BillingCustomer",
    "CreditAppend",
    "DueSubscription",
    "HostedPayments",
    "InvoiceAccount",
    "InvoicePage",
    "Invoices",
    "ListedInvoice",
    "NewInvoice",
    "PaymentRecords",
    "RemoteInvoice",
    "RenewalStore",
    "RenewedSubscription",
    "StoredInvoice",
]

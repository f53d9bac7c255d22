"""Billing: invoices and credit of a billing account, the payment rail, the provider's
records, and what the provider's events mean for Stint (SPEC §4, §10). Amounts are
computed by :mod:`core.proration`; this context owns what happens to them.

The event rules (:mod:`core.billing.events`) are pure: they take values (an event, what
Stint stores, what the provider says now) and return decisions;
``core.services.billing_events`` does the reading and writing.
"""

from core.billing.documents import InvoiceDocument, InvoiceRenderer, Party, explain_line
from core.billing.events import (
    CheckoutCompleted,
    CustomerEvent,
    CustomerUpdated,
    InvoicePaymentReported,
    PaymentMethodAttached,
    PaymentOutcome,
    ProviderEvent,
    StatedCustomer,
    customer_now,
    default_after_attach,
    outcome_from_provider,
    outcome_without_provider,
    remote_state_to_record,
    resumes_account,
    says_what_stint_stores,
)
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
from core.billing.provider import (
    InvalidWebhook,
    PaymentProvider,
    PaymentProviderMissing,
    PaymentProviderUnavailable,
    ProviderActions,
    ProviderCustomer,
    ProviderInvoiceStatus,
)

__all__ = [
    "Billing",
    "BillingCustomer",
    "CheckoutCompleted",
    "CreditAppend",
    "CustomerEvent",
    "CustomerUpdated",
    "DueSubscription",
    "HostedPayments",
    "InvalidWebhook",
    "InvoiceAccount",
    "InvoiceDocument",
    "InvoicePage",
    "InvoicePaymentReported",
    "InvoiceRenderer",
    "Invoices",
    "ListedInvoice",
    "NewInvoice",
    "Party",
    "PaymentMethodAttached",
    "PaymentOutcome",
    "PaymentProvider",
    "PaymentProviderMissing",
    "PaymentProviderUnavailable",
    "PaymentRecords",
    "ProviderActions",
    "ProviderCustomer",
    "ProviderEvent",
    "ProviderInvoiceStatus",
    "RemoteInvoice",
    "RenewalStore",
    "RenewedSubscription",
    "StatedCustomer",
    "StoredInvoice",
    "customer_now",
    "default_after_attach",
    "explain_line",
    "outcome_from_provider",
    "outcome_without_provider",
    "remote_state_to_record",
    "resumes_account",
    "says_what_stint_stores",
]

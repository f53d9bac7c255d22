"""The payment provider's side of billing (SPEC §10): webhook events received, the
provider customer of each billing account, and how far each Stint invoice got there.

``billing_event.id`` is the provider's event id: inserted once, in the same
transaction as the event's effect, so a repeated delivery finds it and changes nothing.
"""

ID = "0004"
DESCRIPTION = "payment provider events, customers and invoices"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS billing_event (
        id VARCHAR(255) PRIMARY KEY NOT NULL,
        type VARCHAR(100) NOT NULL,
        outcome VARCHAR(32) NOT NULL DEFAULT '',
        received_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS billing_customer (
        subscription_id VARCHAR(32) PRIMARY KEY NOT NULL REFERENCES subscription (id),
        customer_id VARCHAR(255) UNIQUE,
        email VARCHAR(320),
        payment_method_id VARCHAR(255),
        card_brand VARCHAR(32),
        card_last4 VARCHAR(4),
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS billing_remote_invoice (
        invoice_id VARCHAR(32) PRIMARY KEY NOT NULL REFERENCES invoice (id),
        subscription_id VARCHAR(32) NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        remote_id VARCHAR(255) UNIQUE,
        state VARCHAR(16) NOT NULL,
        pay_attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS billing_remote_invoice_account"
    " ON billing_remote_invoice (subscription_id, state)",
]

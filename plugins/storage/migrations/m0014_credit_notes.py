"""Credit notes: a decrease's credit set against an unpaid invoice of the period (SPEC §4).

Each note is a document of its own (the day arithmetic of the line it came from); the
invoice it credits keeps its lines and total, and its ``amount_due`` is lowered in the
same transaction. Notes are financial records: a tenant's purge keeps them.
"""

ID = "0014"
DESCRIPTION = "credit_note: credit against an unpaid invoice"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS credit_note (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        invoice_id VARCHAR(32) NOT NULL REFERENCES invoice (id),
        subscription_id VARCHAR(32) NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        amount BIGINT NOT NULL,
        currency VARCHAR(3) NOT NULL DEFAULT 'USD',
        reason VARCHAR(32) NOT NULL,
        description TEXT NOT NULL,
        issued_on DATE NOT NULL,
        days_left INTEGER NOT NULL,
        period_days INTEGER NOT NULL,
        exact_amount TEXT NOT NULL,
        reference VARCHAR(32) NOT NULL DEFAULT '',
        created_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS credit_note_invoice ON credit_note (invoice_id)",
]

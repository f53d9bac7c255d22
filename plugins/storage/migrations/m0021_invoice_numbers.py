"""Human invoice numbers (``STINT-2026-000123``): one gap-free sequence per billing account.

``invoice.number`` existed from the start and stayed 0. From here each account (a
subscription: one tenant, or an enterprise on an enterprise-wide plan) has one row in
``invoice_counter`` holding the last number it gave; an invoice takes the next one in its
own transaction (the row's lock serialises two invoices of one account, and a rollback
gives the number back), so the numbers of an account run 1, 2, 3 … without gaps.

Existing invoices are numbered here in issue order (issue date, then creation, then id),
each account from 1, and the counters start after them. The unique index then guards the
rule. Window functions and ``UPDATE … FROM`` run on PostgreSQL and on SQLite ≥ 3.33.
"""

ID = "0021"
DESCRIPTION = "invoice numbers: a gap-free sequence per billing account"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS invoice_counter (
        subscription_id VARCHAR(32) PRIMARY KEY NOT NULL REFERENCES subscription (id),
        last_number INTEGER NOT NULL
    )""",
    """UPDATE invoice SET number = ranked.n FROM (
        SELECT id, ROW_NUMBER() OVER (
            PARTITION BY subscription_id ORDER BY issued_on, created_at, id
        ) AS n FROM invoice
    ) AS ranked WHERE ranked.id = invoice.id AND invoice.number = 0""",
    """INSERT INTO invoice_counter (subscription_id, last_number)
        SELECT subscription_id, MAX(number) FROM invoice WHERE number > 0 GROUP BY subscription_id
        ON CONFLICT (subscription_id) DO NOTHING""",
    "CREATE UNIQUE INDEX IF NOT EXISTS invoice_number ON invoice (subscription_id, number)",
]

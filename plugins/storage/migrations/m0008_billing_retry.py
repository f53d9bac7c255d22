"""Stripe retries: the due invoices, walked by id, without reading every invoice ever issued.

The ``stripe_retry`` job pages through ``invoice`` rows with ``status = 'due'`` in id
order; paid and void invoices, which are nearly all of them, stay out of the walk.
"""

ID = "0008"
DESCRIPTION = "index of invoices by status for the Stripe retry job"

STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS invoice_status_id ON invoice (status, id)",
]

"""Idempotency keys of the tenant API: one row per (tenant, user, key), kept 24 hours.

A row is a claim (``claim`` set, ``completed_at`` empty) while its request runs, then the
answer (``status``, ``headers``, ``body``) a retry is given again. The unique index is what
makes two concurrent claims of one key end with one winner. No foreign keys: the rows are
short-lived and the tenant purge removes them with the tenant's other rows.
"""

ID = "0009"
DESCRIPTION = "idempotency keys and their answers"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS idempotency_key (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        user_id VARCHAR(32) NOT NULL,
        idempotency_key VARCHAR(255) NOT NULL,
        method VARCHAR(16) NOT NULL,
        path TEXT NOT NULL,
        body_digest VARCHAR(64) NOT NULL,
        claim VARCHAR(32) NOT NULL,
        claimed_at TIMESTAMPTZ NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        completed_at TIMESTAMPTZ,
        status INTEGER,
        headers TEXT,
        body TEXT,
        UNIQUE (tenant_id, user_id, idempotency_key)
    )""",
    "CREATE INDEX IF NOT EXISTS idempotency_key_created ON idempotency_key (created_at)",
]

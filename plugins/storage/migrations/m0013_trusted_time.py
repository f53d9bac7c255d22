"""Clock tampering (SPEC §7): the latest time an on-premises server has trusted, per tenant,
only ever moved forward (``core.activation.trusted_time``). A table of its own rather than a
column of ``tenant_activation``: re-running the migrations over an existing schema must
change nothing, and ``CREATE TABLE IF NOT EXISTS`` is idempotent on both engines where
``ADD COLUMN`` is not on SQLite.
"""

ID = "0013"
DESCRIPTION = "latest trusted time per tenant"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS trusted_time (
        tenant_id VARCHAR(32) PRIMARY KEY NOT NULL REFERENCES tenant (id),
        trusted_at TIMESTAMPTZ NOT NULL
    )""",
]

"""Saved Times Explorer views (issue #17): one user's named filters, columns and grouping.

A new table, ``explorer_view``; its name is unique per user (``name_key``, case-folded).
Additive.
"""

ID = "0026"
DESCRIPTION = "saved Times Explorer views"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS explorer_view (
    id VARCHAR(32) PRIMARY KEY NOT NULL,
    tenant_id VARCHAR(32) NOT NULL,
    user_id VARCHAR(32) NOT NULL,
    name VARCHAR(100) NOT NULL,
    name_key VARCHAR(100) NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS explorer_view_name ON explorer_view (tenant_id, user_id, name_key)",
]

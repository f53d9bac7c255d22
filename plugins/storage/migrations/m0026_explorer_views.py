"""Saved Times Explorer views and background worklog imports (issue #17).

New tables: ``explorer_view`` (one user's named filters, columns and grouping; the name is
unique per user by ``name_key``, case-folded) and ``worklog_import_job`` (a big import's
state, progress and bad lines, read by the user who started it). Additive.
"""

ID = "0026"
DESCRIPTION = "saved Times Explorer views and background worklog imports"

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
    """CREATE TABLE IF NOT EXISTS worklog_import_job (
    id VARCHAR(32) PRIMARY KEY NOT NULL,
    tenant_id VARCHAR(32) NOT NULL,
    user_id VARCHAR(32) NOT NULL,
    state VARCHAR(16) NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    imported INTEGER NOT NULL DEFAULT 0,
    errors TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS worklog_import_job_user ON worklog_import_job (tenant_id, user_id)",
]

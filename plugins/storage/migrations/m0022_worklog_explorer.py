"""Indexes for the team-wide worklog list (``GET /api/v1/worklogs/all``, issue #17).

Until now every worklog query named a user (``worklog_user_start``) or a work item
(``worklog_work_item``). The team-wide list pages through a whole tenant by
``(started_at, id)`` — the keyset cursor — and filters by when a worklog was created or
last edited. Additive: indexes only.
"""

ID = "0022"
DESCRIPTION = "worklog explorer: indexes for tenant-wide pages and created/edited filters"

STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS worklog_tenant_start ON worklog (tenant_id, started_at, id)",
    "CREATE INDEX IF NOT EXISTS worklog_tenant_created ON worklog (tenant_id, created_at)",
    "CREATE INDEX IF NOT EXISTS worklog_tenant_updated ON worklog (tenant_id, updated_at)",
]

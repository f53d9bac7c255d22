"""Each worklog's change history (issue #17): one row per add, edit and delete.

``worklog_change`` is written by the tracking repository with every worklog write, in the
same transaction. Rows are never updated and outlive their worklog (no foreign key), so
"the worklogs deleted since T with their last values" is one query:
``SELECT worklog_id, user_id, at, before FROM worklog_change WHERE tenant_id = ? AND
action = 'deleted' AND at >= ?`` (``before`` holds every recorded field of a deletion).

``before``/``after`` are JSON objects as text (the same on SQLite and PostgreSQL; cast to
``jsonb`` or read with ``json_extract`` to query a field). ``id`` sorts in write order
within equal ``at``. ``actor_id`` is NULL for a change no user made (a job).
"""

ID = "0024"
DESCRIPTION = "worklog change history"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS worklog_change (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        worklog_id VARCHAR(32) NOT NULL,
        user_id VARCHAR(32) NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        actor_id VARCHAR(32),
        source VARCHAR(16) NOT NULL,
        action VARCHAR(16) NOT NULL,
        before TEXT,
        after TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS worklog_change_tenant_at ON worklog_change (tenant_id, at)",
    "CREATE INDEX IF NOT EXISTS worklog_change_tenant_worklog"
    " ON worklog_change (tenant_id, worklog_id, at, id)",
]

"""One row per worklog import (issue #15, imports under SQLite's write lock): who imported how
many worklogs when. An import writes this row instead of one ``worklog_change`` "added" row
per worklog: those rows (and their two indexes) were four tenths of the pages a 100,000-row
import wrote while every other tenant's write waited (docs/benchmarks.md, Imports).

An imported worklog's "added" entry is *implicit* while no ``worklog_change`` row says it:
it is the worklog's own row (unchanged since the import: the first edit or deletion writes
the "added" row out first, from the values before it) dated ``worklog.created_at``, which is
this row's ``at``; the actor and source are this row's. ``(tenant_id, at)`` finds it.
Worklogs imported before this table have their "added" rows, and no row here names them.
"""

ID = "0034"
DESCRIPTION = "worklog_import: one row per import, its worklogs' added history implicit"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS worklog_import (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        actor_id VARCHAR(32),
        source VARCHAR(16) NOT NULL,
        worklogs INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS worklog_import_tenant_at ON worklog_import (tenant_id, at)",
]

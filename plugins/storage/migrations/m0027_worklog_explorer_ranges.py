"""Indexes for the explorer's filtered pages: a work item or activity type *and* a date range.

``worklog_work_item`` (tenant_id, work_item) and ``worklog_activity_type`` (tenant_id,
activity_type_id) find a filter's worklogs but not the month asked for: EXPLAIN on
PostgreSQL at 10 million worklogs showed a month of one activity type read all 1,700 of the
tenant's worklogs of that type to keep 150, then sort them (docs/benchmarks.md, "Times
Explorer"). With ``started_at, id`` after the filtered column the date range is part of the
index condition and one value's rows come out in the list's order (no sort for one work
item or activity type). The wider indexes replace the narrow ones: every query the narrow
ones served uses the same leading columns. Indexes only.
"""

ID = "0027"
DESCRIPTION = "worklog explorer: work item and activity type indexes carry the date range"

STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS worklog_work_item_start ON worklog (tenant_id, work_item, started_at, id)",
    "DROP INDEX IF EXISTS worklog_work_item",
    "CREATE INDEX IF NOT EXISTS worklog_activity_type_start "
    "ON worklog (tenant_id, activity_type_id, started_at, id)",
    "DROP INDEX IF EXISTS worklog_activity_type",
]

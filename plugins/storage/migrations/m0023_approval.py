"""The approval queue (issue #17): approvers per user, the decision's particulars on a
week, and the tenant's approval settings.

- ``user_approver``: the users who decide a user's weeks (besides the global approval
  managers, the existing ``tenant_user.approval_manager`` flag);
- ``week_status``: when the week was submitted, who decided it and when, and the note a
  rejection carries to the owner;
- ``tracking_rule``: the approval start date (weeks ending before it are closed) and
  "lock weeks automatically N days after they end".

Additive: a new table and nullable columns.
"""

from .columns import AddColumn

ID = "0023"
DESCRIPTION = "approval queue: approvers per user, decisions with notes, approval settings"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS user_approver (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        user_id VARCHAR(32) NOT NULL,
        approver_id VARCHAR(32) NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS user_approver_pair ON user_approver (tenant_id, user_id, approver_id)",
    "CREATE INDEX IF NOT EXISTS user_approver_approver ON user_approver (tenant_id, approver_id)",
    AddColumn("week_status", "submitted_at", "TIMESTAMPTZ"),
    AddColumn("week_status", "decided_by", "VARCHAR(32)"),
    AddColumn("week_status", "decided_at", "TIMESTAMPTZ"),
    AddColumn("week_status", "note", "TEXT"),
    AddColumn("tracking_rule", "approval_start", "DATE"),
    AddColumn("tracking_rule", "auto_lock_after_days", "INTEGER"),
    "CREATE INDEX IF NOT EXISTS week_status_tenant_status ON week_status (tenant_id, status, week)",
]

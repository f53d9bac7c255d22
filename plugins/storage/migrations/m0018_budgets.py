"""Budgets and their direct assignments (SPEC §12).

``budget``: money as BIGINT minor units with one currency per budget (amount limit and
hourly rate share it), the hour limit as whole seconds. ``budget_assignment``: one row per
directly assigned target — an iteration, a work item (their integer ids as decimal text)
or a single worklog — unique per tenant and target, so a target has at most one budget.
"""

ID = "0018"
DESCRIPTION = "budgets and their assignments"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS budget (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        name VARCHAR(200) NOT NULL,
        description TEXT,
        limit_s BIGINT,
        amount BIGINT,
        hourly_rate BIGINT,
        currency VARCHAR(3),
        starts_on DATE,
        ends_on DATE,
        is_open BOOLEAN NOT NULL DEFAULT TRUE,
        customer VARCHAR(200),
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS budget_tenant ON budget (tenant_id, name)",
    """CREATE TABLE IF NOT EXISTS budget_assignment (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        budget_id VARCHAR(32) NOT NULL,
        kind VARCHAR(16) NOT NULL,
        target VARCHAR(64) NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS budget_assignment_target "
    "ON budget_assignment (tenant_id, kind, target)",
    "CREATE INDEX IF NOT EXISTS budget_assignment_budget ON budget_assignment (tenant_id, budget_id)",
]

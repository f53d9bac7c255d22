"""Users can be deactivated, and the tenant says who may edit other people's time (issue #17).

``tenant_user.deactivated_at``: set when an Administrator deactivates the user (their
worklogs stay; their seat is released; every token of theirs is refused), cleared when
they are reactivated. ``editing_rule``: one row per tenant that changed the default
("administrators": only Administrators edit other people's worklogs).
"""

from .columns import AddColumn

ID = "0025"
DESCRIPTION = "user deactivation, and who may edit the time of others"

STATEMENTS = [
    AddColumn("tenant_user", "deactivated_at", "TIMESTAMPTZ"),
    """CREATE TABLE IF NOT EXISTS editing_rule (
        tenant_id VARCHAR(32) PRIMARY KEY NOT NULL,
        who VARCHAR(32) NOT NULL,
        updated_by VARCHAR(32) NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
]

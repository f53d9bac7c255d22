"""Work item automation settings (issue #16): whether the outbox job writes a tenant's
work item time fields, which ones, and how a new worklog changes Remaining Work; and
the Remaining Work a user sets on a worklog when the tenant asks for it per worklog.

No settings row means the behaviour from before there were settings: on, both fields,
Remaining Work reduced by each worklog's length.
"""

from .columns import AddColumn

ID = "0019"
DESCRIPTION = "work item automation settings and work_item_outbox.remaining_set"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS work_item_automation (
        tenant_id VARCHAR(32) PRIMARY KEY NOT NULL,
        enabled BOOLEAN NOT NULL DEFAULT TRUE,
        fields VARCHAR(16) NOT NULL,
        remaining VARCHAR(16) NOT NULL,
        updated_by VARCHAR(32) NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    AddColumn("work_item_outbox", "remaining_set", "VARCHAR(32)"),
]

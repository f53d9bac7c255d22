"""Security history: the client address of each audited request, and a walk of the trail.

Sign-ins, failed sign-ins, tokens, role changes and operator actions name the address
they came from. The trail is read newest first, by tenant (tenant Administrators) or
across tenants (operators), a page at a time by (at, id).
"""

from .columns import AddColumn

ID = "0011"
DESCRIPTION = "audit_event.address and the indexes the audit pages walk"

STATEMENTS = [
    AddColumn("audit_event", "address", "VARCHAR(64)"),
    "CREATE INDEX IF NOT EXISTS audit_event_tenant_at_id ON audit_event (tenant_id, at, id)",
    "CREATE INDEX IF NOT EXISTS audit_event_at_id ON audit_event (at, id)",
]

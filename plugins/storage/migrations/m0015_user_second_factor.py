"""Second factor for tenant users: the same three columns the operators have, on the
user's row, and the tenant's "everyone needs one" flag. Recovery codes share the table
of m0012, keyed by owner and tagged with the tenant."""

from .columns import AddColumn

ID = "0015"
DESCRIPTION = "second factor: tenant users TOTP secrets, the tenant requirement"

STATEMENTS = [
    AddColumn("tenant_user", "totp_secret", "TEXT"),
    AddColumn("tenant_user", "totp_confirmed_at", "TIMESTAMPTZ"),
    AddColumn("tenant_user", "totp_last_step", "BIGINT"),
    AddColumn("tenant", "require_second_factor", "BOOLEAN NOT NULL DEFAULT FALSE"),
]

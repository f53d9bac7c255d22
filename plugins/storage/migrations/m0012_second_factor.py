"""Second factor (TOTP): an operator's sealed secret, when it was confirmed and the last
time step a code was accepted for; recovery codes as hashes, each spent once."""

from .columns import AddColumn

ID = "0012"
DESCRIPTION = "second factor: operator TOTP secrets and recovery codes"

STATEMENTS = [
    AddColumn("operator_account", "totp_secret", "TEXT"),
    AddColumn("operator_account", "totp_confirmed_at", "TIMESTAMPTZ"),
    AddColumn("operator_account", "totp_last_step", "BIGINT"),
    """CREATE TABLE IF NOT EXISTS recovery_code (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32),
        owner_id VARCHAR(32) NOT NULL,
        code_hash VARCHAR(64) NOT NULL UNIQUE,
        used_at TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS recovery_code_owner ON recovery_code (owner_id)",
]

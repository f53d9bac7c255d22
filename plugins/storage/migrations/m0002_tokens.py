"""Refresh tokens (rotated, grouped in families) and personal access tokens (SPEC §9).

Only hashes of token secrets are stored; the secret itself is shown once.
"""

ID = "0002"
DESCRIPTION = "refresh and personal access tokens"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS refresh_token (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL REFERENCES tenant (id),
        user_id VARCHAR(32) NOT NULL REFERENCES tenant_user (id),
        family_id VARCHAR(32) NOT NULL,
        token_hash VARCHAR(64) NOT NULL UNIQUE,
        issued_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        used_at TIMESTAMPTZ,
        revoked_at TIMESTAMPTZ
    )""",
    "CREATE INDEX IF NOT EXISTS refresh_token_family ON refresh_token (family_id)",
    """CREATE TABLE IF NOT EXISTS personal_access_token (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL REFERENCES tenant (id),
        user_id VARCHAR(32) NOT NULL REFERENCES tenant_user (id),
        name VARCHAR(100) NOT NULL,
        token_hash VARCHAR(64) NOT NULL UNIQUE,
        created_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        last_used_at TIMESTAMPTZ,
        revoked_at TIMESTAMPTZ
    )""",
    "CREATE INDEX IF NOT EXISTS personal_access_token_user ON personal_access_token (tenant_id, user_id)",
]

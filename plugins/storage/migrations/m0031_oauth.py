"""OAuth 2.0 apps (issue #20): registered clients, authorization codes, device codes, and
refresh-token families that belong to an app.

New tables ``oauth_client``, ``oauth_code`` (hashes of single-use codes) and
``oauth_device_code``. ``refresh_token`` gains ``client_id`` and ``scopes`` (NULL for every
existing token: a sign-in, full access, exactly as before) and ``address`` (where the token
was issued from, for the Apps page). Additive only.
"""

from .columns import AddColumn

ID = "0031"
DESCRIPTION = "OAuth clients, authorization and device codes; refresh_token.client_id, scopes, address"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS oauth_client (
    id VARCHAR(64) PRIMARY KEY NOT NULL,
    name VARCHAR(100) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    redirect_uris TEXT NOT NULL,
    allowed_scopes VARCHAR(200) NOT NULL,
    tenant_id VARCHAR(32),
    secret_hash VARCHAR(64),
    device_grant BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    created_by VARCHAR(64) NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS oauth_client_tenant ON oauth_client (tenant_id)",
    """CREATE TABLE IF NOT EXISTS oauth_code (
    code_hash VARCHAR(64) PRIMARY KEY NOT NULL,
    client_id VARCHAR(64) NOT NULL,
    tenant_id VARCHAR(32) NOT NULL,
    user_id VARCHAR(32) NOT NULL,
    redirect_uri VARCHAR(500) NOT NULL,
    code_challenge VARCHAR(128) NOT NULL,
    scopes VARCHAR(200) NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    family_id VARCHAR(32)
)""",
    """CREATE TABLE IF NOT EXISTS oauth_device_code (
    device_code_hash VARCHAR(64) PRIMARY KEY NOT NULL,
    user_code VARCHAR(16) NOT NULL,
    client_id VARCHAR(64) NOT NULL,
    scopes VARCHAR(200) NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    last_polled_at TIMESTAMPTZ,
    tenant_id VARCHAR(32),
    user_id VARCHAR(32),
    approved BOOLEAN,
    used_at TIMESTAMPTZ
)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS oauth_device_user_code ON oauth_device_code (user_code)",
    AddColumn("refresh_token", "client_id", "VARCHAR(64)"),
    AddColumn("refresh_token", "scopes", "VARCHAR(200)"),
    AddColumn("refresh_token", "address", "VARCHAR(64)"),
]

"""On-premises activation (SPEC §7): the installation's server id, each tenant's activation
(an installed file with its high-water mark, or an online subscription and its last
entitlement), and, on the licence service, the servers registered per subscription.
"""

ID = "0005"
DESCRIPTION = "on-premises activation and licence-service registrations"

STATEMENTS = [
    # One row per installation (id 'server'); a database copied elsewhere keeps its id.
    """CREATE TABLE IF NOT EXISTS stint_installation (
        id VARCHAR(16) PRIMARY KEY NOT NULL,
        server_id VARCHAR(64) NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS tenant_activation (
        tenant_id VARCHAR(32) PRIMARY KEY NOT NULL REFERENCES tenant (id),
        mode VARCHAR(16),
        plan_id VARCHAR(32),
        seats INTEGER,
        interval VARCHAR(16),
        period_start DATE,
        expires_on DATE,
        service_status VARCHAR(16),
        file_id VARCHAR(64),
        file_tenant VARCHAR(64),
        file_server_id VARCHAR(64),
        file_plan_id VARCHAR(32),
        file_seats INTEGER,
        file_period_start DATE,
        file_expires_on DATE,
        file_issued_at TIMESTAMPTZ,
        file_key_id VARCHAR(32),
        issued_at_high_water TIMESTAMPTZ,
        subscription_id VARCHAR(64),
        refreshed_at TIMESTAMPTZ,
        attempted_at TIMESTAMPTZ,
        refresh_error TEXT,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS tenant_activation_mode ON tenant_activation (mode)",
    """CREATE TABLE IF NOT EXISTS licence_registration (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        subscription_id VARCHAR(32) NOT NULL REFERENCES subscription (id),
        server_id VARCHAR(64) NOT NULL,
        tenant VARCHAR(64) NOT NULL,
        first_seen_at TIMESTAMPTZ NOT NULL,
        last_seen_at TIMESTAMPTZ NOT NULL,
        last_address VARCHAR(64),
        UNIQUE (subscription_id, server_id)
    )""",
]

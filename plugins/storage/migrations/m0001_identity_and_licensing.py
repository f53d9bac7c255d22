"""Tenancy, identity, plans, subscriptions, seats, invoices, credit and audit.

Portable DDL: the same text runs on SQLite and PostgreSQL. Column types use the
names Piccolo's SQLite converters know (TIMESTAMPTZ, DATE, BOOLEAN), so values
read back as Python types on both engines. Money is BIGINT minor units.
"""

ID = "0001"
DESCRIPTION = "identity and licensing"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS enterprise (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        name VARCHAR(200) NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS subscription (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        enterprise_id VARCHAR(32) NOT NULL,
        scope VARCHAR(16) NOT NULL DEFAULT 'tenant',
        plan_id VARCHAR(32) NOT NULL,
        interval VARCHAR(16),
        seats INTEGER,
        status VARCHAR(16) NOT NULL,
        trial_ends_on DATE,
        period_start DATE,
        period_end DATE,
        anchor_day INTEGER,
        past_due_since DATE,
        expired_on DATE,
        expiry_reason VARCHAR(32),
        scheduled_plan_id VARCHAR(32),
        scheduled_seats INTEGER,
        scheduled_interval VARCHAR(16),
        seat_price BIGINT,
        currency VARCHAR(3) NOT NULL DEFAULT 'USD',
        version INTEGER NOT NULL DEFAULT 0,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS subscription_status_end ON subscription (status, period_end)",
    """CREATE TABLE IF NOT EXISTS tenant (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        slug VARCHAR(64) NOT NULL UNIQUE,
        name VARCHAR(200) NOT NULL,
        deployment VARCHAR(16) NOT NULL,
        enterprise_id VARCHAR(32) NOT NULL REFERENCES enterprise (id),
        subscription_id VARCHAR(32) NOT NULL REFERENCES subscription (id),
        time_zone VARCHAR(64) NOT NULL DEFAULT 'UTC',
        default_role VARCHAR(16) NOT NULL DEFAULT 'team',
        licensing_mode VARCHAR(16) NOT NULL DEFAULT 'automatic',
        uninstalled_at TIMESTAMPTZ,
        purged_at TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS tenant_enterprise ON tenant (enterprise_id)",
    "CREATE INDEX IF NOT EXISTS tenant_subscription ON tenant (subscription_id)",
    """CREATE TABLE IF NOT EXISTS person (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        email VARCHAR(320) NOT NULL UNIQUE,
        name VARCHAR(200) NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS tenant_user (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL REFERENCES tenant (id),
        person_id VARCHAR(32) NOT NULL REFERENCES person (id),
        role VARCHAR(16),
        collection_admin BOOLEAN NOT NULL DEFAULT false,
        approval_manager BOOLEAN NOT NULL DEFAULT false,
        password_hash TEXT,
        last_used_at TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL,
        UNIQUE (tenant_id, person_id)
    )""",
    """CREATE TABLE IF NOT EXISTS seat (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        subscription_id VARCHAR(32) NOT NULL REFERENCES subscription (id),
        person_id VARCHAR(32) NOT NULL REFERENCES person (id),
        assigned_at TIMESTAMPTZ NOT NULL,
        assigned_by VARCHAR(64) NOT NULL,
        UNIQUE (subscription_id, person_id)
    )""",
    """CREATE TABLE IF NOT EXISTS operator_account (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        email VARCHAR(320) NOT NULL UNIQUE,
        name VARCHAR(200) NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS plan_catalogue (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        data TEXT NOT NULL,
        position INTEGER NOT NULL DEFAULT 0,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS invoice (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        subscription_id VARCHAR(32) NOT NULL REFERENCES subscription (id),
        tenant_id VARCHAR(32) NOT NULL REFERENCES tenant (id),
        number INTEGER NOT NULL DEFAULT 0,
        kind VARCHAR(32) NOT NULL,
        issued_on DATE NOT NULL,
        lines TEXT NOT NULL,
        total BIGINT NOT NULL,
        credit_applied BIGINT NOT NULL DEFAULT 0,
        amount_due BIGINT NOT NULL,
        currency VARCHAR(3) NOT NULL DEFAULT 'USD',
        status VARCHAR(16) NOT NULL,
        idempotency_key VARCHAR(200) NOT NULL UNIQUE,
        external_id VARCHAR(200),
        paid_at TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS invoice_subscription ON invoice (subscription_id, issued_on)",
    """CREATE TABLE IF NOT EXISTS credit_entry (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        subscription_id VARCHAR(32) NOT NULL REFERENCES subscription (id),
        position INTEGER NOT NULL,
        amount BIGINT NOT NULL,
        reason VARCHAR(64) NOT NULL,
        reference VARCHAR(200) NOT NULL DEFAULT '',
        on_date DATE NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        UNIQUE (subscription_id, position)
    )""",
    """CREATE TABLE IF NOT EXISTS audit_event (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32),
        actor VARCHAR(200) NOT NULL,
        action VARCHAR(64) NOT NULL,
        subject VARCHAR(200) NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}',
        at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS audit_event_tenant ON audit_event (tenant_id, at)",
]

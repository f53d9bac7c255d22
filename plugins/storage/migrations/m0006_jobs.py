"""Background jobs (SPEC §11): job runs, the mail outbox, retention notices, due-work indexes.

Idempotency lives here, not in the broker: a mail is one ``mail_outbox`` row per
(kind, tenant, date, recipient); a retention warning is one ``retention_notice`` row
per (tenant, purge date, threshold); a job run is one ``job_run`` row per run key
(the Celery task id), so a redelivered task updates its own row.
"""

ID = "0006"
DESCRIPTION = "job runs, mail outbox, retention notices"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS job_run (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        job VARCHAR(64) NOT NULL,
        run_key VARCHAR(200) NOT NULL UNIQUE,
        worker VARCHAR(200) NOT NULL DEFAULT '',
        status VARCHAR(16) NOT NULL,
        counts TEXT NOT NULL DEFAULT '{}',
        error TEXT,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ
    )""",
    "CREATE INDEX IF NOT EXISTS job_run_job_started ON job_run (job, started_at)",
    """CREATE TABLE IF NOT EXISTS mail_outbox (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        kind VARCHAR(64) NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        on_date DATE NOT NULL,
        recipient VARCHAR(320) NOT NULL,
        subject VARCHAR(300) NOT NULL,
        body TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        claimed_at TIMESTAMPTZ,
        sent_at TIMESTAMPTZ,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        UNIQUE (kind, tenant_id, on_date, recipient)
    )""",
    "CREATE INDEX IF NOT EXISTS mail_outbox_pending ON mail_outbox (sent_at, claimed_at)",
    """CREATE TABLE IF NOT EXISTS retention_notice (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        purge_on DATE NOT NULL,
        threshold INTEGER NOT NULL,
        noticed_on DATE NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        UNIQUE (tenant_id, purge_on, threshold)
    )""",
    # Due work is found by index, not by scanning every subscription.
    "CREATE INDEX IF NOT EXISTS subscription_status_trial ON subscription (status, trial_ends_on)",
    "CREATE INDEX IF NOT EXISTS subscription_status_past_due ON subscription (status, past_due_since)",
    "CREATE INDEX IF NOT EXISTS subscription_status_expired ON subscription (status, expired_on)",
]

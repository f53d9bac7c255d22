"""Time tracking: rules, preferences, running timers, worklogs, week statuses, work items,
and the outbox of work-item updates (SPEC §8).

Every table is per tenant and leads with ``tenant_id``; the worklog index
``(tenant_id, user_id, started_at)`` is the one the timesheet query walks.
Hours on local work items are integer hundredths of an hour (exact).
"""

ID = "0003_tracking"
DESCRIPTION = "time tracking"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS tracking_rule (
        tenant_id VARCHAR(32) PRIMARY KEY NOT NULL,
        tracking_without_work_item BOOLEAN NOT NULL DEFAULT TRUE,
        activity_check_minutes INTEGER NOT NULL DEFAULT 60,
        answer_window_minutes INTEGER NOT NULL DEFAULT 10,
        max_track_minutes INTEGER NOT NULL DEFAULT 720,
        locked_until DATE,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS tracking_preference (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        user_id VARCHAR(32) NOT NULL,
        time_zone VARCHAR(64),
        mail_on_system_stop BOOLEAN NOT NULL DEFAULT FALSE,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS tracking_preference_user ON tracking_preference (tenant_id, user_id)",
    """CREATE TABLE IF NOT EXISTS tracking_timer (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        user_id VARCHAR(32) NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        work_item VARCHAR(200),
        comment TEXT,
        next_activity_check_at TIMESTAMPTZ NOT NULL,
        check_asked_at TIMESTAMPTZ,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    # One running timer per user, enforced by the database as well as by the lock.
    "CREATE UNIQUE INDEX IF NOT EXISTS tracking_timer_user ON tracking_timer (tenant_id, user_id)",
    "CREATE INDEX IF NOT EXISTS tracking_timer_check ON tracking_timer (next_activity_check_at)",
    """CREATE TABLE IF NOT EXISTS worklog (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        user_id VARCHAR(32) NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        length_s INTEGER NOT NULL,
        billable_length_s INTEGER NOT NULL DEFAULT 0,
        work_item VARCHAR(200),
        comment TEXT,
        activity_type VARCHAR(200),
        added_by VARCHAR(32) NOT NULL,
        flags VARCHAR(100) NOT NULL,
        owner_edited BOOLEAN NOT NULL DEFAULT FALSE,
        stop_reason VARCHAR(16),
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS worklog_user_start ON worklog (tenant_id, user_id, started_at)",
    "CREATE INDEX IF NOT EXISTS worklog_work_item ON worklog (tenant_id, work_item)",
    """CREATE TABLE IF NOT EXISTS week_status (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        user_id VARCHAR(32) NOT NULL,
        week VARCHAR(8) NOT NULL,
        status VARCHAR(16) NOT NULL,
        updated_by VARCHAR(32) NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS week_status_user_week ON week_status (tenant_id, user_id, week)",
    """CREATE TABLE IF NOT EXISTS local_work_item (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        item VARCHAR(200) NOT NULL,
        title VARCHAR(200) NOT NULL DEFAULT '',
        completed_centihours BIGINT,
        remaining_centihours BIGINT,
        rev INTEGER NOT NULL DEFAULT 1,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS local_work_item_item ON local_work_item (tenant_id, item)",
    """CREATE TABLE IF NOT EXISTS work_item_outbox (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        tenant_id VARCHAR(32) NOT NULL,
        work_item VARCHAR(200) NOT NULL,
        effect_key VARCHAR(100) NOT NULL,
        remaining_delta_s INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        attempt_rev INTEGER,
        attempt_completed VARCHAR(32),
        attempt_remaining VARCHAR(32),
        done_at TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    # An effect is recorded once: "lower Remaining Work for worklog X" can never be queued twice.
    "CREATE UNIQUE INDEX IF NOT EXISTS work_item_outbox_effect ON work_item_outbox (tenant_id, effect_key)",
    "CREATE INDEX IF NOT EXISTS work_item_outbox_pending ON work_item_outbox (done_at, tenant_id)",
]

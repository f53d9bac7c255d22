"""Notification preferences and working hours (issue #19).

New tables: ``notification_preference`` (a user's choice per kind, or the tenant's default
under an empty user id; unique per tenant, user and kind), ``working_hours`` (expected minutes
per weekday, one row per user; absent: 8 h Monday to Friday) and ``day_off`` (dates a user
does not work; unique per user and day). The mail outbox gains the notification kind of a
mail and its recipient's user id and display name (for the unsubscribe link and the ``To``
header). Additive: new tables and nullable columns only.
"""

from .columns import AddColumn

ID = "0030"
DESCRIPTION = "notification preferences, working hours and days off"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS notification_preference (
    id VARCHAR(32) PRIMARY KEY NOT NULL,
    tenant_id VARCHAR(32) NOT NULL,
    user_id VARCHAR(32) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at TIMESTAMPTZ NOT NULL
)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS notification_preference_key "
    "ON notification_preference (tenant_id, user_id, kind)",
    """CREATE TABLE IF NOT EXISTS working_hours (
    id VARCHAR(32) PRIMARY KEY NOT NULL,
    tenant_id VARCHAR(32) NOT NULL,
    user_id VARCHAR(32) NOT NULL,
    mon INTEGER NOT NULL DEFAULT 480,
    tue INTEGER NOT NULL DEFAULT 480,
    wed INTEGER NOT NULL DEFAULT 480,
    thu INTEGER NOT NULL DEFAULT 480,
    fri INTEGER NOT NULL DEFAULT 480,
    sat INTEGER NOT NULL DEFAULT 0,
    sun INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL
)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS working_hours_user ON working_hours (tenant_id, user_id)",
    """CREATE TABLE IF NOT EXISTS day_off (
    id VARCHAR(32) PRIMARY KEY NOT NULL,
    tenant_id VARCHAR(32) NOT NULL,
    user_id VARCHAR(32) NOT NULL,
    day DATE NOT NULL
)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS day_off_user_day ON day_off (tenant_id, user_id, day)",
    AddColumn("mail_outbox", "preference", "VARCHAR(32)"),
    AddColumn("mail_outbox", "user_id", "VARCHAR(32)"),
    AddColumn("mail_outbox", "recipient_name", "VARCHAR(200)"),
]

"""Piccolo table classes for background jobs (DDL in ``migrations/m0006_jobs.py``)."""

from __future__ import annotations

from piccolo.columns import Date, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["JOBS_TABLES", "JobRun", "MailOutbox", "RetentionNotice"]


class JobRun(Table, tablename="job_run"):
    id = Varchar(length=32, primary_key=True)
    job = Varchar(length=64)
    run_key = Varchar(length=200, unique=True)
    worker = Varchar(length=200, default="")
    status = Varchar(length=16)
    counts = Text(default="{}")
    error = Text(null=True, default=None)
    started_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)


class MailOutbox(Table, tablename="mail_outbox"):
    id = Varchar(length=32, primary_key=True)
    kind = Varchar(length=64)
    tenant_id = Varchar(length=32)
    on_date = Date()
    recipient = Varchar(length=320)
    subject = Varchar(length=300)
    body = Text()
    created_at = Timestamptz()
    claimed_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
    #: The notification kind the recipient can turn off (m0030; None: nobody can).
    preference = Varchar(length=32, null=True, default=None)
    user_id = Varchar(length=32, null=True, default=None)
    recipient_name = Varchar(length=200, null=True, default=None)
    #: When the mail was found possibly sent but unrecorded (m0032): it is never sent again.
    in_doubt_at = Timestamptz(null=True, default=None)


class RetentionNotice(Table, tablename="retention_notice"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    purge_on = Date()
    threshold = Integer()
    noticed_on = Date()
    created_at = Timestamptz()


JOBS_TABLES: tuple[type[Table], ...] = (JobRun, MailOutbox, RetentionNotice)

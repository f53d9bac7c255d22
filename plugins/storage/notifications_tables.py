"""Piccolo table classes for notification preferences and working hours (DDL in
``migrations/m0030_notifications.py``)."""

from __future__ import annotations

from piccolo.columns import Boolean, Date, Integer, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["NOTIFICATION_TABLES", "DayOffRow", "NotificationPreferenceRow", "WorkingHoursRow"]

#: The ``user_id`` of a tenant's default (no user has an empty id).
TENANT_DEFAULT = ""


class NotificationPreferenceRow(Table, tablename="notification_preference"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    #: The user whose choice this is, or ``TENANT_DEFAULT`` for the tenant's default.
    user_id = Varchar(length=32)
    kind = Varchar(length=32)
    enabled = Boolean(default=True)
    updated_at = Timestamptz()


class WorkingHoursRow(Table, tablename="working_hours"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    #: Expected minutes per weekday, Monday first.
    mon = Integer(default=480)
    tue = Integer(default=480)
    wed = Integer(default=480)
    thu = Integer(default=480)
    fri = Integer(default=480)
    sat = Integer(default=0)
    sun = Integer(default=0)
    updated_at = Timestamptz()


class DayOffRow(Table, tablename="day_off"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    day = Date()


NOTIFICATION_TABLES: tuple[type[Table], ...] = (NotificationPreferenceRow, WorkingHoursRow, DayOffRow)

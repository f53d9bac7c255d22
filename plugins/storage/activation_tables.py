"""Piccolo table classes for on-premises activation (DDL in ``migrations/m0005_activation.py``
and ``m0013_trusted_time.py``)."""

from __future__ import annotations

from piccolo.columns import Date, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["ACTIVATION_TABLES", "Installation", "LicenceRegistration", "TenantActivation", "TrustedTimeRow"]


class Installation(Table, tablename="stint_installation"):
    id = Varchar(length=16, primary_key=True)
    server_id = Varchar(length=64)
    created_at = Timestamptz()


class TenantActivation(Table, tablename="tenant_activation"):
    tenant_id = Varchar(length=32, primary_key=True)
    mode = Varchar(length=16, null=True, default=None)
    plan_id = Varchar(length=32, null=True, default=None)
    seats = Integer(null=True, default=None)
    interval = Varchar(length=16, null=True, default=None)
    period_start = Date(null=True, default=None)
    expires_on = Date(null=True, default=None)
    service_status = Varchar(length=16, null=True, default=None)
    file_id = Varchar(length=64, null=True, default=None)
    file_tenant = Varchar(length=64, null=True, default=None)
    file_server_id = Varchar(length=64, null=True, default=None)
    file_plan_id = Varchar(length=32, null=True, default=None)
    file_seats = Integer(null=True, default=None)
    file_period_start = Date(null=True, default=None)
    file_expires_on = Date(null=True, default=None)
    file_issued_at = Timestamptz(null=True, default=None)
    file_key_id = Varchar(length=32, null=True, default=None)
    issued_at_high_water = Timestamptz(null=True, default=None)
    subscription_id = Varchar(length=64, null=True, default=None)
    refreshed_at = Timestamptz(null=True, default=None)
    attempted_at = Timestamptz(null=True, default=None)
    refresh_error = Text(null=True, default=None)
    updated_at = Timestamptz()


class TrustedTimeRow(Table, tablename="trusted_time"):
    """The latest clock reading an on-premises server trusted, per tenant (written only by
    single-statement upserts that never move it back, except for a newer activation file)."""

    tenant_id = Varchar(length=32, primary_key=True)
    trusted_at = Timestamptz()


class LicenceRegistration(Table, tablename="licence_registration"):
    id = Varchar(length=32, primary_key=True)
    subscription_id = Varchar(length=32)
    server_id = Varchar(length=64)
    tenant = Varchar(length=64)
    first_seen_at = Timestamptz()
    last_seen_at = Timestamptz()
    last_address = Varchar(length=64, null=True, default=None)


ACTIVATION_TABLES: tuple[type[Table], ...] = (
    Installation, TenantActivation, TrustedTimeRow, LicenceRegistration,
)

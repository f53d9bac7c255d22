"""Piccolo table classes for OAuth apps (DDL in ``migrations/m0031_oauth.py``)."""

from __future__ import annotations

from piccolo.columns import Boolean, Text, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["OAUTH_TABLES", "OAuthClientRow", "OAuthCodeRow", "OAuthDeviceCodeRow"]


class OAuthClientRow(Table, tablename="oauth_client"):
    id = Varchar(length=64, primary_key=True)
    name = Varchar(length=100)
    kind = Varchar(length=16)
    #: Newline-separated, each matched exactly.
    redirect_uris = Text()
    allowed_scopes = Varchar(length=200)
    #: NULL: first-party (operator-registered, every tenant).
    tenant_id = Varchar(length=32, null=True, default=None)
    secret_hash = Varchar(length=64, null=True, default=None)
    device_grant = Boolean(default=False)
    disabled = Boolean(default=False)
    created_at = Timestamptz()
    created_by = Varchar(length=64)


class OAuthCodeRow(Table, tablename="oauth_code"):
    code_hash = Varchar(length=64, primary_key=True)
    client_id = Varchar(length=64)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    redirect_uri = Varchar(length=500)
    code_challenge = Varchar(length=128)
    scopes = Varchar(length=200)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    #: The grant its tokens started: revoked if the code is ever presented again.
    family_id = Varchar(length=32, null=True, default=None)


class OAuthDeviceCodeRow(Table, tablename="oauth_device_code"):
    device_code_hash = Varchar(length=64, primary_key=True)
    user_code = Varchar(length=16, unique=True)
    client_id = Varchar(length=64)
    scopes = Varchar(length=200)
    expires_at = Timestamptz()
    last_polled_at = Timestamptz(null=True, default=None)
    tenant_id = Varchar(length=32, null=True, default=None)
    user_id = Varchar(length=32, null=True, default=None)
    approved = Boolean(null=True, default=None)
    used_at = Timestamptz(null=True, default=None)


OAUTH_TABLES: tuple[type[Table], ...] = (OAuthClientRow, OAuthCodeRow, OAuthDeviceCodeRow)

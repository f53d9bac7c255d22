"""Piccolo table classes for the payment provider (DDL in ``migrations/m0004_billing_events.py``)."""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["BILLING_TABLES", "BillingCustomer", "BillingEvent", "BillingRemoteInvoice"]


class BillingEvent(Table, tablename="billing_event"):
    id = Varchar(length=255, primary_key=True)
    type = Varchar(length=100)
    outcome = Varchar(length=32, default="")
    received_at = Timestamptz()


class BillingCustomer(Table, tablename="billing_customer"):
    subscription_id = Varchar(length=32, primary_key=True)
    customer_id = Varchar(length=255, null=True, default=None, unique=True)
    email = Varchar(length=320, null=True, default=None)
    payment_method_id = Varchar(length=255, null=True, default=None)
    card_brand = Varchar(length=32, null=True, default=None)
    card_last4 = Varchar(length=4, null=True, default=None)
    updated_at = Timestamptz()


class BillingRemoteInvoice(Table, tablename="billing_remote_invoice"):
    invoice_id = Varchar(length=32, primary_key=True)
    subscription_id = Varchar(length=32)
    tenant_id = Varchar(length=32)
    remote_id = Varchar(length=255, null=True, default=None, unique=True)
    state = Varchar(length=16)
    pay_attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
    updated_at = Timestamptz()


BILLING_TABLES: tuple[type[Table], ...] = (BillingEvent, BillingCustomer, BillingRemoteInvoice)

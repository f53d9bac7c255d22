"""Piccolo table classes: the latest schema, as the migrations leave it.

The migrations own the DDL; these classes are how the repositories read and
write. ``tests/integration/test_schema.py`` checks the two agree column by column.
Engines are bound at start-up by :func:`plugins.storage.engine.bind`.
"""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

__all__ = ["ALL_TABLES"]


class Enterprise(Table, tablename="enterprise"):
    id = Varchar(length=32, primary_key=True)
    name = Varchar(length=200)
    created_at = Timestamptz()


class Subscription(Table, tablename="subscription"):
    id = Varchar(length=32, primary_key=True)
    enterprise_id = Varchar(length=32)
    scope = Varchar(length=16, default="tenant")
    plan_id = Varchar(length=32)
    interval = Varchar(length=16, null=True, default=None)
    seats = Integer(null=True, default=None)
    status = Varchar(length=16)
    trial_ends_on = Date(null=True, default=None)
    period_start = Date(null=True, default=None)
    period_end = Date(null=True, default=None)
    anchor_day = Integer(null=True, default=None)
    past_due_since = Date(null=True, default=None)
    expired_on = Date(null=True, default=None)
    expiry_reason = Varchar(length=32, null=True, default=None)
    scheduled_plan_id = Varchar(length=32, null=True, default=None)
    scheduled_seats = Integer(null=True, default=None)
    scheduled_interval = Varchar(length=16, null=True, default=None)
    # The seat price in force for the running period, fixed when bought or changed, so
    # an operator's catalogue edit applies from the next renewal, never mid-period.
    seat_price = BigInt(null=True, default=None)
    currency = Varchar(length=3, default="USD")
    version = Integer(default=0)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Tenant(Table, tablename="tenant"):
    id = Varchar(length=32, primary_key=True)
    slug = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    deployment = Varchar(length=16)
    enterprise_id = Varchar(length=32)
    subscription_id = Varchar(length=32)
    time_zone = Varchar(length=64, default="UTC")
    default_role = Varchar(length=16, default="team")
    licensing_mode = Varchar(length=16, default="automatic")
    uninstalled_at = Timestamptz(null=True, default=None)
    purged_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    #: Administrators' setting: every user needs a second factor to go past enrolment.
    require_second_factor = Boolean(default=False)


class Person(Table, tablename="person"):
    id = Varchar(length=32, primary_key=True)
    email = Varchar(length=320, unique=True)
    name = Varchar(length=320)
    created_at = Timestamptz()


class TenantUser(Table, tablename="tenant_user"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    # A ForeignKey only so queries can join to the person (``person_id.email``).
    person_id = ForeignKey(references=Person)
    role = Varchar(length=16, null=True, default=None)
    collection_admin = Boolean(default=False)
    approval_manager = Boolean(default=False)
    password_hash = Text(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    # The second factor, as on OperatorAccount: the sealed TOTP secret, in use once confirmed.
    totp_secret = Text(null=True, default=None)
    totp_confirmed_at = Timestamptz(null=True, default=None)
    totp_last_step = BigInt(null=True, default=None)
    # m0025: set while the user is deactivated (their tokens are refused, their seat freed).
    deactivated_at = Timestamptz(null=True, default=None)
    # m0033: the profile's reading preferences (NULL: English, 1:30, Monday).
    locale = Varchar(length=8, null=True, default=None)
    time_format = Varchar(length=8, null=True, default=None)
    week_starts_on = Varchar(length=10, null=True, default=None)


class Seat(Table, tablename="seat"):
    id = Varchar(length=32, primary_key=True)
    subscription_id = Varchar(length=32)
    person_id = Varchar(length=32)
    assigned_at = Timestamptz()
    assigned_by = Varchar(length=64)


class OperatorAccount(Table, tablename="operator_account"):
    id = Varchar(length=32, primary_key=True)
    email = Varchar(length=320, unique=True)
    name = Varchar(length=200)
    password_hash = Text()
    created_at = Timestamptz()
    # The second factor: the sealed TOTP secret, in use once confirmed.
    totp_secret = Text(null=True, default=None)
    totp_confirmed_at = Timestamptz(null=True, default=None)
    totp_last_step = BigInt(null=True, default=None)


class RecoveryCode(Table, tablename="recovery_code"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32, null=True, default=None)
    owner_id = Varchar(length=32)
    code_hash = Varchar(length=64, unique=True)
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class PlanCatalogue(Table, tablename="plan_catalogue"):
    id = Varchar(length=32, primary_key=True)
    data = Text()
    position = Integer(default=0)
    updated_at = Timestamptz()


class Invoice(Table, tablename="invoice"):
    id = Varchar(length=32, primary_key=True)
    subscription_id = Varchar(length=32)
    tenant_id = Varchar(length=32)
    number = Integer(default=0)
    kind = Varchar(length=32)
    issued_on = Date()
    lines = Text()
    total = BigInt()
    credit_applied = BigInt(default=0)
    amount_due = BigInt()
    currency = Varchar(length=3, default="USD")
    status = Varchar(length=16)
    idempotency_key = Varchar(length=200, unique=True)
    external_id = Varchar(length=200, null=True, default=None)
    paid_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class InvoiceCounter(Table, tablename="invoice_counter"):
    """The last invoice number a billing account gave (DDL in ``migrations/m0021_invoice_numbers.py``)."""

    subscription_id = Varchar(length=32, primary_key=True)
    last_number = Integer()


class CreditNote(Table, tablename="credit_note"):
    """A credit note against an unpaid invoice (DDL in ``migrations/m0014_credit_notes.py``)."""

    id = Varchar(length=32, primary_key=True)
    invoice_id = Varchar(length=32)
    subscription_id = Varchar(length=32)
    tenant_id = Varchar(length=32)
    amount = BigInt()
    currency = Varchar(length=3, default="USD")
    reason = Varchar(length=32)
    description = Text()
    issued_on = Date()
    days_left = Integer()
    period_days = Integer()
    exact_amount = Text()
    reference = Varchar(length=32, default="")
    created_at = Timestamptz()


class CreditEntry(Table, tablename="credit_entry"):
    id = Varchar(length=32, primary_key=True)
    subscription_id = Varchar(length=32)
    # The entry's place in its ledger: order is meaning (credit before its use), and a
    # unique position makes two concurrent appends collide instead of interleaving.
    position = Integer()
    amount = BigInt()
    reason = Varchar(length=64)
    reference = Varchar(length=200, default="")
    on_date = Date()
    created_at = Timestamptz()


class AuditEvent(Table, tablename="audit_event"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32, null=True, default=None)
    actor = Varchar(length=320)
    action = Varchar(length=64)
    subject = Varchar(length=320, default="")
    detail = Text(default="{}")
    at = Timestamptz()
    address = Varchar(length=64, null=True, default=None)


class RefreshToken(Table, tablename="refresh_token"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    family_id = Varchar(length=32)
    token_hash = Varchar(length=64, unique=True)
    issued_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    #: The OAuth app the family belongs to (m0031); NULL: a sign-in.
    client_id = Varchar(length=64, null=True, default=None)
    #: Space-separated consented scopes (m0031); NULL: full access (a sign-in).
    scopes = Varchar(length=200, null=True, default=None)
    address = Varchar(length=64, null=True, default=None)


class PersonalAccessToken(Table, tablename="personal_access_token"):
    id = Varchar(length=32, primary_key=True)
    tenant_id = Varchar(length=32)
    user_id = Varchar(length=32)
    name = Varchar(length=100)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    #: Space-separated scopes (m0028); NULL: full access, as every token before scopes had.
    scopes = Varchar(length=200, null=True, default=None)


ALL_TABLES: tuple[type[Table], ...] = (
    Enterprise,
    Subscription,
    Tenant,
    Person,
    TenantUser,
    Seat,
    OperatorAccount,
    PlanCatalogue,
    Invoice,
    InvoiceCounter,
    CreditNote,
    CreditEntry,
    AuditEvent,
    RefreshToken,
    PersonalAccessToken,
    RecoveryCode,
)

# Time tracking's tables live in their own module; the schema test checks them too.
from .tracking_tables import TRACKING_TABLES  # noqa: E402

ALL_TABLES = (*ALL_TABLES, *TRACKING_TABLES)

# Background jobs' tables (job runs, mail outbox, retention notices).
from .jobs_tables import JOBS_TABLES  # noqa: E402

ALL_TABLES = (*ALL_TABLES, *JOBS_TABLES)

# On-premises activation's tables (the installation's server id, activations, registrations).
from .activation_tables import ACTIVATION_TABLES  # noqa: E402

ALL_TABLES = (*ALL_TABLES, *ACTIVATION_TABLES)

# The payment provider's tables (events, customers, remote invoices) live in their own module.
from .billing_tables import BILLING_TABLES  # noqa: E402

ALL_TABLES = (*ALL_TABLES, *BILLING_TABLES)

# Idempotency keys of the tenant API (with the tenant's other rows, a purge removes them).
from .idempotency_tables import IDEMPOTENCY_TABLES  # noqa: E402

ALL_TABLES = (*ALL_TABLES, *IDEMPOTENCY_TABLES)

# The work items mirror (work items, iterations, their id counter and the sync state).
from .work_items_tables import WORK_ITEMS_TABLES  # noqa: E402

ALL_TABLES = (*ALL_TABLES, *WORK_ITEMS_TABLES)

# Budgets and their assignments.
from .budgets_tables import BUDGETS_TABLES  # noqa: E402

ALL_TABLES = (*ALL_TABLES, *BUDGETS_TABLES)

# Activity types and rates (the catalogue, user rates, the tenant's rate currency).
from .activities_tables import ACTIVITY_TABLES  # noqa: E402

ALL_TABLES = (*ALL_TABLES, *ACTIVITY_TABLES)

# Saved Times Explorer views.
from .saved_views_tables import SAVED_VIEW_TABLES  # noqa: E402

ALL_TABLES = (*ALL_TABLES, *SAVED_VIEW_TABLES)

# Background worklog imports (their state and progress).
from .import_jobs_tables import IMPORT_JOB_TABLES  # noqa: E402

ALL_TABLES = (*ALL_TABLES, *IMPORT_JOB_TABLES)

# Notification preferences, working hours and days off.
from .notifications_tables import NOTIFICATION_TABLES  # noqa: E402

ALL_TABLES = (*ALL_TABLES, *NOTIFICATION_TABLES)

# OAuth apps: registered clients, authorization codes, device codes (m0031).
from .oauth_tables import OAUTH_TABLES  # noqa: E402

ALL_TABLES = (*ALL_TABLES, *OAUTH_TABLES)

"""The process's adapters, as :func:`plugins.bootstrap.start` builds them: one typed record
that controllers, jobs and commands receive (kept apart from the builder so that modules
the builder uses, like the jobs and the health checks, can name the type without a cycle)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from piccolo.engine.base import Engine
from redis.asyncio import Redis

from core.activation.ports import ActivationDirectory, ActivationFileReader, LicenceClient, LicenceRegistry
from core.billing import InvoiceRenderer, Party
from core.billing.ports import Billing, HostedPayments
from core.clock import Clock
from core.idempotency import IdempotencyStore
from core.identity.ports import OneTimeCodes, PasswordHasher
from core.jobs.ports import JobStore, Mailer
from core.reporting import CursorSeal, QueryParser, ReportingReader
from core.services.tenant_data import TenantArchiver
from core.tenancy import Tenant, User
from core.tracking.ports import Spreadsheets, TrackingDirectory
from core.unit_of_work import UnitOfWorkFactory

from .activation.issuing import ActivationIssuer
from .billing_stripe import StripeBilling, StripeWebhooks
from .cache import AccessCache, RateLimiter
from .devops.sync import WorkItemSyncs
from .devops.tenants import DevOpsSettings
from .feed import InProcessFeed, ProcessFeed
from .identity.keys import SigningKeys
from .identity.tokens import TokenService
from .mail.unsubscribe import UnsubscribeTokens
from .settings import Settings

__all__ = ["PrincipalMemo", "Stint"]

#: The principals (tenant, user) built from a cached row, by (cache key, stamp).
PrincipalMemo = dict[tuple[str, str], tuple[Tenant, User]]


@dataclass
class Stint:
    """Everything a use case, a controller, a job or a command needs, built once per process."""

    settings: Settings
    #: The database engine: migrations and health read it; everything else goes through ``uow``.
    engine: Engine[Any]
    uow: UnitOfWorkFactory
    hasher: PasswordHasher
    #: The secret keys: the current one signs, the previous ones are still accepted.
    keys: SigningKeys
    tokens: TokenService
    clock: Clock
    #: The payment rail: manual invoicing, or Stripe when a key is set.
    billing: Billing
    #: Cached access decisions by generation; Redis or memory.
    access_cache: AccessCache
    #: Rate-limit counters; Redis or memory.
    limiter: RateLimiter
    #: The background jobs' runs and cross-tenant questions.
    jobs: JobStore
    tracking_directory: TrackingDirectory
    mailer: Mailer
    #: On-premises activation: the installation's server id and online tenants.
    activations: ActivationDirectory
    #: Activation files: the signature check with the trusted keys.
    activation_files: ActivationFileReader
    #: Issuing activation files (the vendor's operators).
    activation_issuer: ActivationIssuer
    #: The vendor's licence service: subscriptions and the servers registered to them.
    licence_registry: LicenceRegistry
    #: The on-premises server's line to the licence service.
    licence_client: LicenceClient
    #: Tenants' DevOps connections and the connectors the work-item job writes through.
    devops: DevOpsSettings
    #: The Azure DevOps work item sync: the job's run over every tenant, and "Sync now".
    work_item_syncs: WorkItemSyncs
    #: Worklog files in Excel's format (CSV is core's own).
    spreadsheets: Spreadsheets
    #: The tenant API's idempotency keys and the answers kept with them.
    idempotency: IdempotencyStore
    #: Second-factor codes (TOTP) and the sealing of their secrets.
    codes: OneTimeCodes
    #: Invoices as documents (PDF).
    invoice_documents: InvoiceRenderer
    #: A tenant's every record as one signed archive ("Export all data").
    tenant_archives: TenantArchiver
    #: The Reporting API (OData): its queries run, its options parsed, its cursors sealed.
    reporting: ReportingReader
    report_parser: QueryParser
    report_cursors: CursorSeal
    redis: Redis | None = None
    #: Committed timer and worklog changes, fanned out to this process's event streams.
    feed: ProcessFeed = field(default_factory=InProcessFeed)
    #: Stripe as the payment rail (also ``billing``), its hosted pages and its webhooks.
    stripe: StripeBilling | None = None
    hosted_payments: HostedPayments | None = None
    stripe_webhooks: StripeWebhooks | None = None
    #: Kept per process: a stamp only means something within one cache.
    principal_memo: PrincipalMemo = field(default_factory=dict)
    #: Closed by :func:`stop`, last opened first.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def unsubscribe(self) -> UnsubscribeTokens:
        """One-click unsubscribe tokens and links, signed with ``keys``."""
        return UnsubscribeTokens(self.keys, self.settings.base_url)

    @property
    def seller(self) -> Party:
        """Who issues the invoices: this Stint's operator, as the settings name it."""
        s = self.settings
        details = [line.strip() for line in s.seller_address.split("|") if line.strip()]
        if s.seller_tax_id:
            details.append(f"Tax ID: {s.seller_tax_id}")
        details.append(s.seller_email or s.smtp_from)
        return Party(s.seller_name, tuple(details))

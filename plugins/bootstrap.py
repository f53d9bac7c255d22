"""The composition root: builds every adapter from settings, once per process.

The web app, the operator console, the Celery worker and the CLI all start here, so the
worker needs nothing from ``web/``. What they use reaches them as the typed, named ports
of :class:`Stint`; nothing outside this module constructs an adapter. Optional
capabilities (Stripe, Redis) are ``X | None``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from core.clock import Clock
from core.services.oauth import ensure_tracker_client

from . import metrics, metrics_scrape
from .activation.issuing import ActivationIssuer
from .activation.reader import SettingsFileReader
from .billing_manual import ManualBilling
from .cache import Hit, RateLimiter
from .cache import build as build_cache
from .clock import clock_from_settings
from .devops.sealing import PatSealer
from .devops.sync import WorkItemSyncs
from .devops.tenants import DevOpsSettings
from .feed import build as build_feed
from .health import HealthReport, health_report, readiness
from .identity.keys import LEGACY_KID, SigningKey, SigningKeys
from .identity.passwords import Argon2Hasher
from .identity.tokens import OPERATOR_AUDIENCE, TENANT_AUDIENCE, AccessClaims, TokenError, TokenService
from .identity.totp import PyotpCodes
from .invoice_pdf import PdfInvoiceRenderer
from .jobs.status import jobs_status
from .licence_client import build_licence_client
from .mail import mailer_from_settings
from .reporting import ODataQueryParser, PiccoloReporting, SealedCursors
from .sealing import Sealer
from .settings import Settings, load_settings
from .spreadsheets import XlsxSpreadsheets
from .stint import Stint
from .storage import engine as storage_engine
from .storage.activation_repo import PiccoloActivationDirectory, PiccoloLicenceRegistry
from .storage.catalogue_repo import CatalogueRepo
from .storage.devops_repo import PiccoloDevOpsConnections
from .storage.idempotency_repo import PiccoloIdempotencyStore
from .storage.jobs_repo import PiccoloJobStore
from .storage.migrations import upgrade
from .storage.tenant_export.writing import SignedTenantArchives
from .storage.tracking_repo import PiccoloTrackingDirectory
from .storage.uow import PiccoloUnitOfWorkFactory

__all__ = [
    "OPERATOR_AUDIENCE",
    "TENANT_AUDIENCE",
    "AccessClaims",
    "HealthReport",
    "Hit",
    "RateLimiter",
    "Stint",
    "TokenError",
    "health_report",
    "jobs_status",
    "metrics",
    "metrics_scrape",
    "readiness",
    "signing_keys",
    "start",
    "stop",
]

async def start(
    settings: Settings | None = None, *, clock: Clock | None = None, migrate: bool = False
) -> Stint:
    settings = settings or load_settings()
    engine = await storage_engine.open_engine(settings.database_url)
    storage_engine.bind(engine)
    if migrate:
        await upgrade(engine)
        await CatalogueRepo().seed(datetime.now(UTC))
    # Tests ask for cheap Argon2 parameters; production never sets this.
    fast = os.environ.get("STINT_FAST_PASSWORD_HASHING") == "1"
    built = build_cache(settings)
    clock = clock or clock_from_settings(settings.fake_clock_file)
    # Every commit that changes a role, seat, subscription or tenant moves the generations
    # its cached access decisions were stored under.
    # Committed timer and worklog changes go out once, to every process's open event streams.
    feed = build_feed(settings.redis_url, settings.redis_prefix, built.redis)
    uow = PiccoloUnitOfWorkFactory(engine, after_commit=built.cache.bump, feed=feed)
    keys = signing_keys(settings)
    devops = DevOpsSettings(uow, settings, clock, PiccoloDevOpsConnections(), PatSealer(keys))
    stint = Stint(
        settings=settings,
        engine=engine,
        uow=uow,
        access_cache=built.cache,
        limiter=built.limiter,
        redis=built.redis,
        hasher=Argon2Hasher(fast=fast),
        keys=keys,
        tokens=TokenService(keys, access_minutes=settings.access_token_minutes),
        clock=clock,
        billing=ManualBilling(),
        jobs=PiccoloJobStore(engine),
        tracking_directory=PiccoloTrackingDirectory(engine),
        mailer=mailer_from_settings(settings),
        activations=PiccoloActivationDirectory(),
        activation_files=SettingsFileReader(
            settings.activation_public_keys,
            trust_dev_key=settings.activation_trust_dev_key,
            data_dir=settings.data_dir,
        ),
        activation_issuer=ActivationIssuer(uow, settings, clock),
        licence_registry=PiccoloLicenceRegistry(),
        licence_client=build_licence_client(settings),
        devops=devops,
        work_item_syncs=WorkItemSyncs(uow, clock, devops, page_size=settings.work_item_sync_page_size),
        spreadsheets=XlsxSpreadsheets(),
        idempotency=PiccoloIdempotencyStore(),
        codes=PyotpCodes(keys),
        invoice_documents=PdfInvoiceRenderer(),
        tenant_archives=SignedTenantArchives(settings.database_url, settings.secret_keys),
        reporting=PiccoloReporting(uow, engine),
        report_parser=ODataQueryParser(),
        report_cursors=SealedCursors(Sealer(keys, b"stint reporting cursor")),
        feed=feed,
        closers=[*built.closers, feed.close],
    )
    if settings.stripe_api_key:
        _use_stripe(stint, settings.stripe_api_key)
    if migrate:
        # As `stint db upgrade` does: the first-party tracker is registered (idempotent).
        await ensure_tracker_client(uow, clock)
    return stint


def signing_keys(settings: Settings) -> SigningKeys:
    """The process's key ring, re-read from the key file when a key it does not know turns up."""
    ring = tuple(SigningKey(kid, secret) for kid, secret in settings.secret_keys)
    return SigningKeys(ring or (SigningKey(LEGACY_KID, settings.secret_key),), file=settings.secret_keys_file)


def _use_stripe(stint: Stint, api_key: str) -> None:
    """Stripe collects the invoices (manual invoicing stays the default without a key)."""
    from .billing_stripe import build as build_stripe

    settings = stint.settings
    billing, webhooks = build_stripe(
        api_key=api_key,
        api_base=settings.stripe_api_base,
        webhook_secret=settings.stripe_webhook_secret,
        base_url=settings.base_url,
        uow=stint.uow,
        clock=stint.clock,
    )
    stint.billing = billing
    stint.stripe = billing
    stint.hosted_payments = billing
    stint.stripe_webhooks = webhooks
    stint.closers.append(billing.gateway.close)


async def stop(stint: Stint) -> None:
    await stint.work_item_syncs.stop()
    for close in reversed(stint.closers):
        await close()
    await storage_engine.close(stint.engine)

"""The composition root: builds every adapter from settings.

The web app, the operator console, the Celery worker and the CLI all start
here, so the worker needs nothing from ``web/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.base import Engine

from core.billing.ports import Billing
from core.clock import Clock

from .billing_manual import ManualBilling
from .cache import MemoryGenerationCache, MemoryRateLimiter, RateLimiter
from .cache import build as build_cache
from .identity.passwords import Argon2Hasher
from .identity.tokens import TokenService
from .jobs.clock import clock_from_settings
from .licence_client import build_licence_client
from .settings import Settings, load_settings
from .storage import engine as storage_engine
from .storage.billing_repo import CatalogueRepo
from .storage.migrations import upgrade
from .storage.uow import PiccoloUnitOfWorkFactory

__all__ = ["Stint", "start", "stop"]


@dataclass
class Stint:
    """Everything a use case needs, built once per process."""

    settings: Settings
    engine: Engine[Any]
    uow: PiccoloUnitOfWorkFactory
    hasher: Argon2Hasher
    tokens: TokenService
    clock: Clock
    billing: Billing
    #: Cached access decisions by generation (``core.ports.GenerationCache``); Redis or memory.
    access_cache: Any = field(default_factory=MemoryGenerationCache)
    #: Rate-limit counters; Redis or memory.
    limiter: RateLimiter = field(default_factory=MemoryRateLimiter)
    redis: Any = None
    #: The on-premises server's line to the licence service (``core.ports.LicenceClient``).
    licence_client: Any = None
    extras: dict[str, Any] = field(default_factory=dict)


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
    access_cache, limiter, redis_client = build_cache(settings)
    lean_redis = getattr(access_cache, "lean", None)
    if redis_client is not None:
        # Redis going away must not take the web app with it: decide from the database.
        from .cache.fallback import with_fallback

        access_cache, limiter, _ = with_fallback(access_cache, limiter)
    stint = Stint(
        settings=settings,
        engine=engine,
        # Every commit that changes a role, seat, subscription or tenant moves the
        # generations its cached access decisions were stored under.
        uow=PiccoloUnitOfWorkFactory(engine, after_commit=access_cache.bump, decision_cache=access_cache),
        access_cache=access_cache,
        limiter=limiter,
        redis=redis_client,
        hasher=Argon2Hasher(fast=fast),
        tokens=TokenService(settings.secret_key, access_minutes=settings.access_token_minutes),
        clock=clock or clock_from_settings(settings.fake_clock_file),
        billing=ManualBilling(),
        licence_client=build_licence_client(settings),
    )
    if lean_redis is not None:
        stint.extras["lean_redis"] = lean_redis
    if settings.stripe_api_key:
        _use_stripe(stint)
    return stint


def _use_stripe(stint: Stint) -> None:
    """Stripe collects the invoices (manual invoicing stays the default without a key)."""
    from .billing_stripe import build as build_stripe
    from .storage.payment_records import PiccoloPaymentRecords

    settings = stint.settings
    assert settings.stripe_api_key
    billing, webhooks = build_stripe(
        api_key=settings.stripe_api_key,
        api_base=settings.stripe_api_base,
        webhook_secret=settings.stripe_webhook_secret,
        base_url=settings.base_url,
        uow=stint.uow,
        records=PiccoloPaymentRecords(stint.engine),
        clock=stint.clock,
    )
    stint.billing = billing
    stint.extras["hosted_payments"] = billing
    stint.extras["stripe_webhooks"] = webhooks


async def stop(stint: Stint) -> None:
    hosted = stint.extras.get("hosted_payments")
    if hosted is not None:
        await hosted.gateway.close()
    if stint.redis is not None:
        await stint.redis.aclose()
    lean = stint.extras.get("lean_redis")
    if lean is not None:
        await lean.close()
    await storage_engine.close(stint.engine)

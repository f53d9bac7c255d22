"""The composition root: builds every adapter from settings.

The web app, the operator console, the Celery worker and the CLI all start
here, so the worker needs nothing from ``web/``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from dataclasses import dataclass, field
from typing import Any

from piccolo.engine.base import Engine

from core.clock import Clock, SystemClock
from core.ports import Billing

from .billing_manual import ManualBilling
from .cache import MemoryGenerationCache, MemoryRateLimiter, RateLimiter
from .cache import build as build_cache
from .identity.passwords import Argon2Hasher
from .identity.tokens import TokenService
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
    return Stint(
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
        clock=clock or SystemClock(),
        billing=ManualBilling(),
    )


async def stop(stint: Stint) -> None:
    if stint.redis is not None:
        await stint.redis.aclose()
    await storage_engine.close(stint.engine)

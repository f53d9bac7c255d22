"""The composition root: builds every adapter from settings.

The web app, the operator console, the Celery worker and the CLI all start
here, so the worker needs nothing from ``web/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from piccolo.engine.base import Engine

from core.clock import Clock, SystemClock

from .identity.passwords import Argon2Hasher
from .identity.tokens import TokenService
from .settings import Settings, load_settings
from .storage import engine as storage_engine
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
    extras: dict[str, Any] = field(default_factory=dict)


async def start(
    settings: Settings | None = None, *, clock: Clock | None = None, migrate: bool = False
) -> Stint:
    settings = settings or load_settings()
    engine = await storage_engine.open_engine(settings.database_url)
    storage_engine.bind(engine)
    if migrate:
        await upgrade(engine)
    # Tests ask for cheap Argon2 parameters; production never sets this.
    fast = os.environ.get("STINT_FAST_PASSWORD_HASHING") == "1"
    return Stint(
        settings=settings,
        engine=engine,
        uow=PiccoloUnitOfWorkFactory(engine),
        hasher=Argon2Hasher(fast=fast),
        tokens=TokenService(settings.secret_key, access_minutes=settings.access_token_minutes),
        clock=clock or SystemClock(),
    )


async def stop(stint: Stint) -> None:
    await storage_engine.close(stint.engine)

"""Fixtures shared by integration test files: localstripe and the Stripe-billing app, an SMTP inbox,
a migrated storage engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from tests.conftest import make_settings
from tests.integration.localstripe_support import localstripe, stripe_env
from tests.support.api import api_client
from tests.support.mail import Inbox, smtp_inbox


@pytest.fixture(scope="module")
def stripe_base() -> Iterator[str]:
    """A localstripe server on loopback, started once per test file that asks for it."""
    with localstripe() as base:
        yield base


@pytest.fixture
def app(stripe_base: str, database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Any]:
    """The API with Stripe billing against that localstripe, on SQLite and PostgreSQL."""
    with api_client(make_settings(database_url, tmp_path, **stripe_env(stripe_base)), clock) as client:
        yield client


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """An aiosmtpd server on loopback: (what it received, its port)."""
    with smtp_inbox() as found:
        yield found


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Any]:
    """This test's database, migrated, as Piccolo's bound engine (a file may define its own)."""
    opened = await storage_engine.open_engine(database_url, pool_size=2)
    storage_engine.bind(opened)
    await upgrade(opened)
    yield opened
    await storage_engine.close(opened)

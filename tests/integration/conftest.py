"""Fixtures shared by integration test files: localstripe and the Stripe-billing app, an SMTP inbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
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

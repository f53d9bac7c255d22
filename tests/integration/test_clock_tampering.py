"""A clock set back is refused on every access decision, not only on upload (issue #15, F6;
SPEC §7): an on-premises server remembers the latest time it has trusted."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.testing import TestClient

from core.clock import FixedClock
from core.services.signup import signup as signup_tenant
from plugins.activation import generate_signing_key
from plugins.clock import FileClock
from plugins.identity.passwords import Argon2Hasher
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.uow import PiccoloUnitOfWorkFactory
from tests.integration.test_activation_offline import (
    ADMIN,
    SLUG,
    _settings,
    admin,
    make_file,
    server_id,
    upload,
)
from tests.integration.test_cli import STINT, clean_env
from tests.support.api import add_user, api_client, bearer, signup, token

ISSUED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
#: Valid through 2026-12-12, then 7 days of grace: access ends at the start of 2026-12-20.
EXPIRES_ON = date(2026, 12, 13)


@pytest.fixture
def vendor_key() -> Ed25519PrivateKey:
    return generate_signing_key()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(ISSUED)


@pytest.fixture
def client(
    database_url: str, tmp_path: Path, vendor_key: Ed25519PrivateKey, clock: FixedClock
) -> Iterator[TestClient[Any]]:
    with api_client(_settings(database_url, tmp_path, vendor_key), clock) as c:
        signup(c, SLUG, deployment="onprem")
        yield c


def access(client: TestClient[Any], headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/me/access", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_rollback_sequence_ends_refused_at_every_step_after_the_rollback(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey, clock: FixedClock
) -> None:
    """Expired on 12-21; the clock set back to 12-09 (a valid day before) is refused for the
    clock, with both times; so is every later day up to the last trusted one, a clock before
    the file's issue time, the API routes and a Team user; the truth restored says expired."""
    file = make_file(vendor_key, server=server_id(client), now=ISSUED, expires_on=EXPIRES_ON)
    assert upload(client, file, admin(client)).status_code == 200
    add_user(client, token(client, SLUG, ADMIN), "team@acme-onprem.test", role="team")

    clock.set(datetime(2026, 12, 21, 9, 0, tzinfo=UTC))
    headers = admin(client)
    assert (access(client, headers)["allowed"], access(client, headers)["reason"]) == (False, "expired")
    assert client.get("/api/v1/worklogs", headers=headers).status_code == 402

    for day in (9, 12, 15, 19, 20):
        clock.set(datetime(2026, 12, day, 9, 0, tzinfo=UTC))
        headers = admin(client)
        decision = access(client, headers)
        assert (decision["allowed"], decision["reason"]) == (False, "clock_set_back"), day
        if day == 9:
            assert decision["message"] == (
                "This server's clock reads 2026-12-09 09:00:00 UTC, more than 1 hour earlier than a "
                "time it has already trusted (2026-12-21 09:00:00 UTC). The clock appears to have been "
                "set back: correct the server's date and time. If they are correct, ask support for a "
                "new activation file."
            )
        listed = client.get("/api/v1/worklogs", headers=headers)
        assert listed.status_code == 403, listed.text
        assert listed.headers["content-type"].startswith("application/problem+json")
        assert listed.json()["code"] == "clock_set_back"
        added = client.post("/api/v1/worklogs", headers=headers,
                            json={"started_at": "2026-12-08T09:00:00Z", "length_s": 3600})
        assert added.status_code == 403 and added.json()["code"] == "clock_set_back"
        team = bearer(token(client, SLUG, "team@acme-onprem.test"))
        assert access(client, team)["reason"] == "clock_set_back"

    clock.set(ISSUED - timedelta(days=1))
    headers = admin(client)
    decision = access(client, headers)
    assert (decision["allowed"], decision["reason"]) == (False, "clock_set_back")
    assert "earlier than the issue time of the newest activation file it has verified " \
        "(2026-11-20 10:00:00 UTC)" in decision["message"]
    # The collection admin sees why on the activation page (and could install a newer file).
    shown = client.get("/api/v1/subscription/activation", headers=headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["warnings"][0] == decision["message"]

    clock.set(datetime(2026, 12, 21, 9, 30, tzinfo=UTC))
    headers = admin(client)
    assert access(client, headers)["reason"] == "expired"


def test_a_clock_corrected_by_less_than_the_tolerance_is_believed(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey, clock: FixedClock
) -> None:
    """A clock that ran fast by 40 minutes and is put right does not lock anyone out."""
    first = make_file(vendor_key, server=server_id(client), now=ISSUED)
    assert upload(client, first, admin(client)).status_code == 200
    clock.set(ISSUED + timedelta(days=3))
    assert access(client, admin(client))["allowed"] is True

    clock.set(ISSUED + timedelta(days=3) - timedelta(minutes=40))

    assert access(client, admin(client))["allowed"] is True


def test_a_decision_cached_before_the_clock_went_back_is_not_served_after(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey, clock: FixedClock
) -> None:
    """Set back by two hours within the same day, the cached "allowed" of a moment ago is
    decided again, and refused."""
    first = make_file(vendor_key, server=server_id(client), now=ISSUED)
    assert upload(client, first, admin(client)).status_code == 200
    clock.set(datetime(2026, 12, 1, 18, 0, tzinfo=UTC))
    headers = admin(client)
    assert access(client, headers)["allowed"] is True
    assert client.get("/api/v1/worklogs", headers=headers).status_code == 200

    clock.set(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))
    headers = admin(client)  # the token of 18:00 is not valid yet at 16:00

    assert client.get("/api/v1/worklogs", headers=headers).json()["code"] == "clock_set_back"


def test_a_newer_activation_file_lets_a_clock_set_ahead_by_mistake_be_corrected(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey, clock: FixedClock
) -> None:
    """The clock ran two months ahead and was trusted there; put right, it reads "set back" —
    until support's newer file, the vendor's signed word on the time, is installed."""
    server = server_id(client)
    first = make_file(vendor_key, server=server, now=ISSUED)
    assert upload(client, first, admin(client)).status_code == 200
    clock.set(ISSUED + timedelta(days=60))
    assert access(client, admin(client))["allowed"] is True
    clock.set(ISSUED + timedelta(days=2))
    headers = admin(client)
    assert access(client, headers)["reason"] == "clock_set_back"
    # The file already installed, sent again, proves nothing new.
    assert upload(client, first, headers).status_code == 200
    assert access(client, headers)["reason"] == "clock_set_back"

    newer = make_file(vendor_key, server=server, now=ISSUED + timedelta(days=2))
    assert upload(client, newer, headers).status_code == 200

    assert access(client, headers)["allowed"] is True


async def test_the_cli_says_which_tenant_refuses_the_clock_and_why(tmp_path: Path) -> None:
    """``stint activation clock`` under a controlled clock: ok at the trusted time; set back,
    exit 1 with the tenant, the refusal and both times."""
    database = f"sqlite:///{tmp_path / 'stint.sqlite3'}"
    engine = await storage_engine.open_engine(database)
    storage_engine.bind(engine)
    await upgrade(engine)
    uow = PiccoloUnitOfWorkFactory(engine)
    for slug, deployment in ((SLUG, "onprem"), ("cloudy", "cloud")):
        made = await signup_tenant(uow, Argon2Hasher(fast=True), FixedClock(ISSUED), slug=slug, name=slug,
                                   deployment=deployment, admin_email=f"admin@{slug}.test",
                                   admin_password="correct horse battery", admin_name="Admin", trial_days=28)
        async with uow(write=True) as work:
            repo = work.tenant(made.tenant.id).activation()
            await repo.advance_trusted_time(datetime(2026, 12, 21, 9, 0, tzinfo=UTC))
            await work.commit()
    await storage_engine.close(engine)
    now = FileClock(tmp_path / "now")
    env = {**clean_env(), "STINT_DATABASE_URL": database, "STINT_FAKE_CLOCK_FILE": str(now.path)}

    def stint_clock() -> subprocess.CompletedProcess[str]:
        return subprocess.run([STINT, "activation", "clock"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)

    now.set(datetime(2026, 12, 21, 9, 30, tzinfo=UTC))
    believed = stint_clock()
    assert believed.returncode == 0, believed.stderr
    assert f"{SLUG}: ok; latest trusted time 2026-12-21 09:00:00 UTC" in believed.stdout
    assert "cloudy" not in believed.stdout

    now.set(datetime(2026, 12, 9, 9, 0, tzinfo=UTC))
    refused = stint_clock()

    assert refused.returncode == 1, refused.stderr
    assert f"{SLUG}: REFUSED clock_set_back" in refused.stdout
    assert "This server's clock reads 2026-12-09 09:00:00 UTC, more than 1 hour earlier than a time it " \
        "has already trusted (2026-12-21 09:00:00 UTC)" in refused.stdout

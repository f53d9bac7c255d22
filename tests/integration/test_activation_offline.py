"""Offline activation through the API (SPEC §7): a signed file activates an on-premises tenant
with no network, every refusal reason reaches the admin as problem+json 422 with its exact
message, newer files replace older ones, and a clock set back is caught."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.testing import TestClient

from core.activation.claims import MAX_FILE_BYTES
from core.clock import FixedClock
from plugins.activation import (
    generate_signing_key,
    issue_file,
    load_or_create_dev_key,
    private_key_pem,
    public_key_pem,
)
from plugins.activation.signing import key_id
from tests.conftest import make_settings
from tests.support.api import add_user, api_client, bearer, operator_token, signup, token

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SLUG = "acme-onprem"
ADMIN = f"admin@{SLUG}.test"


@pytest.fixture
def vendor_key() -> Ed25519PrivateKey:
    """The vendor's signing key for these tests; the server trusts it via STINT_ACTIVATION_PUBLIC_KEYS."""
    return generate_signing_key()


@pytest.fixture
def onprem_clock() -> FixedClock:
    return FixedClock(START)


def _settings(database_url: str, tmp_path: Path, key: Ed25519PrivateKey, **extra: str) -> Any:
    # No STINT_LICENCE_SERVICE_URL: this server has no network to the vendor at all.
    return make_settings(
        database_url, tmp_path,
        STINT_ACTIVATION_PUBLIC_KEYS=public_key_pem(key.public_key()),
        STINT_ACTIVATION_SIGNING_KEY=private_key_pem(key),
        **extra,
    )


def _onprem(url: str, tmp_path: Path, key: Ed25519PrivateKey, clock: FixedClock) -> Iterator[TestClient[Any]]:
    with api_client(_settings(url, tmp_path, key), clock) as c:
        signup(c, SLUG, deployment="onprem")
        yield c


@pytest.fixture
def both_client(
    database_url: str, tmp_path: Path, vendor_key: Ed25519PrivateKey, onprem_clock: FixedClock
) -> Iterator[TestClient[Any]]:
    """An on-premises tenant, on SQLite and on PostgreSQL (for the paths that write state)."""
    yield from _onprem(database_url, tmp_path, vendor_key, onprem_clock)


@pytest.fixture
def client(
    sqlite_url: str, tmp_path: Path, vendor_key: Ed25519PrivateKey, onprem_clock: FixedClock
) -> Iterator[TestClient[Any]]:
    """The same on SQLite only: refusals write nothing, so the engine does not matter to them."""
    yield from _onprem(sqlite_url, tmp_path, vendor_key, onprem_clock)


def admin(client: TestClient[Any]) -> dict[str, str]:
    return bearer(token(client, SLUG, ADMIN))


def server_id(client: TestClient[Any]) -> str:
    response = client.get("/api/v1/subscription/server-id", headers=admin(client))
    assert response.status_code == 200, response.text
    return str(response.json()["server_id"])


def make_file(
    key: Ed25519PrivateKey, *, server: str, now: datetime, tenant: str = SLUG, seats: int = 10,
    expires_on: date = date(2027, 3, 2), plan: str = "team", period_start: date | None = None,
    file_id: str | None = None,
) -> str:
    return issue_file(
        tenant=tenant, server_id=server, plan_id=plan, seats=seats, expires_on=expires_on,
        signing_key=key, now=now, period_start=period_start, file_id=file_id,
    )


def upload(client: TestClient[Any], text: str, headers: dict[str, str]) -> Any:
    return client.post(
        "/api/v1/subscription/activation-file", content=text.encode(),
        headers={**headers, "Content-Type": "application/octet-stream"},
    )


def refused(response: Any, reason: str) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "activation_refused"
    assert body["reason"] == reason
    return str(body["detail"])


def test_an_issued_file_activates_an_onprem_server_with_no_network_configured(
    both_client: TestClient[Any], vendor_key: Ed25519PrivateKey
) -> None:
    """The file's plan, seats and period become the tenant's subscription; the Time tab opens."""
    client = both_client
    headers = admin(client)
    server = server_id(client)
    assert server.startswith("SRV-") and server_id(client) == server  # stable once generated

    response = upload(client, make_file(vendor_key, server=server, now=START, file_id="f-1"), headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "file" and body["plan"] == "team" and body["seats"] == 10
    assert body["expires_on"] == "2027-03-02" and body["valid_through"] == "2027-03-08"
    assert body["installed_file"]["file_id"] == "f-1" and body["warnings"] == []
    sub = client.get("/api/v1/subscription", headers=headers).json()
    # "cancelled" = active until its period ends and never renewed here (docs/activation.md).
    assert (sub["plan"], sub["seats"], sub["interval"], sub["status"]) == ("team", 10, "annual", "cancelled")
    assert (sub["period_start"], sub["period_end"]) == ("2026-03-02", "2027-03-09")
    access = client.get("/api/v1/me/access", headers=headers).json()
    assert access["allowed"] is True and access["banner"]["visible"] is False


def test_the_file_can_be_sent_as_multipart_field_file(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey
) -> None:
    """Browsers upload forms: the multipart field ``file`` is read like a raw body."""
    text = make_file(vendor_key, server=server_id(client), now=START)
    response = client.post(
        "/api/v1/subscription/activation-file", files={"file": ("acme.activation", text.encode())},
        headers=admin(client),
    )
    assert response.status_code == 200, response.text
    assert response.json()["seats"] == 10


def test_a_tampered_file_is_refused_with_its_message(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey
) -> None:
    """Changing the payload (seats 10 → 1000) breaks the signature: reason ``tampered``."""
    import base64
    import json

    text = make_file(vendor_key, server=server_id(client), now=START)
    head, payload, signature = text.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["seats"] = 1000
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    detail = refused(upload(client, f"{head}.{forged}.{signature}", admin(client)), "tampered")
    assert detail == (
        "This activation file was changed after it was issued: its signature does not match its "
        "contents. Ask support for a new file and upload it unchanged."
    )
    assert client.get("/api/v1/subscription/activation", headers=admin(client)).json()["mode"] is None


def test_a_file_signed_with_an_untrusted_key_is_refused_as_wrong_key(client: TestClient[Any]) -> None:
    """A well-formed file from a key the server does not trust: reason ``wrong_key`` naming the key."""
    stranger = generate_signing_key()
    detail = refused(upload(client, make_file(stranger, server=server_id(client), now=START), admin(client)),
                     "wrong_key")
    assert detail == (
        f"This activation file was signed with a key this server does not trust (key id "
        f"{key_id(stranger.public_key())}). Ask support for a file signed with a current Stint key, "
        f"or update Stint if the file was signed with a newer key."
    )


def test_an_expired_file_is_refused(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey, onprem_clock: FixedClock
) -> None:
    """A file whose expiry day has come is refused as ``expired`` with its last valid day."""
    text = make_file(vendor_key, server=server_id(client), now=START, expires_on=date(2026, 4, 1))
    onprem_clock.set(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    detail = refused(upload(client, text, admin(client)), "expired")
    assert detail == (
        "This activation file expired on 2026-04-01 (it was valid up to and including 2026-03-31). "
        "Ask support for a renewed file."
    )


def test_a_file_that_starts_later_is_not_yet_valid(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey
) -> None:
    """A period starting tomorrow: reason ``not_yet_valid`` saying when to install it."""
    text = make_file(vendor_key, server=server_id(client), now=START, period_start=date(2026, 3, 3))
    detail = refused(upload(client, text, admin(client)), "not_yet_valid")
    assert detail == (
        "This activation file starts on 2026-03-03; today is 2026-03-02 (UTC) on this server. "
        "Install it on or after its start day."
    )


def test_a_file_issued_in_the_servers_future_is_not_yet_valid(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey
) -> None:
    """Issued more than 5 minutes after the server's now: the server's clock is behind."""
    text = make_file(vendor_key, server=server_id(client), now=START + timedelta(minutes=6))
    detail = refused(upload(client, text, admin(client)), "not_yet_valid")
    assert detail == (
        "This activation file was issued at 2026-03-02 09:06:00 UTC, which is later than this "
        "server's clock (2026-03-02 09:00:00 UTC). Check the server's date and time and try again."
    )


def test_a_file_for_another_server_is_refused(client: TestClient[Any], vendor_key: Ed25519PrivateKey) -> None:
    """The file names another server id: reason ``other_server`` naming both ids."""
    server = server_id(client)
    detail = refused(upload(client, make_file(vendor_key, server="SRV-OTHER", now=START), admin(client)),
                     "other_server")
    assert detail == f"This activation file was issued for server SRV-OTHER, not for this server ({server})."


def test_a_file_for_another_tenant_on_this_server_is_refused(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey
) -> None:
    """Right server, other collection: refused too, so one file cannot license two tenants."""
    text = make_file(vendor_key, server=server_id(client), now=START, tenant="beta-onprem")
    detail = refused(upload(client, text, admin(client)), "other_server")
    assert detail == (
        "This activation file was issued for tenant beta-onprem on this server, "
        f"not for this tenant ({SLUG})."
    )


def test_something_that_is_not_a_file_is_refused_as_malformed(client: TestClient[Any]) -> None:
    """Random text is ``malformed``, and an empty body is a validation error, never a 500."""
    detail = refused(upload(client, "hello, licence", admin(client)), "malformed")
    assert detail == (
        "This is not a valid Stint activation file (it is not a signed token). "
        "Upload the file exactly as support sent it."
    )
    empty = upload(client, "", admin(client))
    assert empty.status_code == 422 and empty.json()["code"] == "validation_error"


def test_a_body_larger_than_any_activation_file_is_refused_as_malformed(client: TestClient[Any]) -> None:
    """One byte over ``MAX_FILE_BYTES`` (the rule in ``core.activation.claims``) is refused unread."""
    detail = refused(upload(client, "x" * (MAX_FILE_BYTES + 1), admin(client)), "malformed")
    assert "far larger than any activation file" in detail


def test_a_newer_file_replaces_an_older_one_and_the_older_one_is_then_refused(
    both_client: TestClient[Any], vendor_key: Ed25519PrivateKey, onprem_clock: FixedClock
) -> None:
    """Seats 10 → 25 with a later file; re-sending the first is ``older_than_installed``."""
    client = both_client
    onprem_clock.set(START + timedelta(hours=2))
    headers = admin(client)
    server = server_id(client)
    first = make_file(vendor_key, server=server, now=START, seats=10, file_id="f-old")
    second = make_file(vendor_key, server=server, now=START + timedelta(hours=1), seats=25, file_id="f-new")
    assert upload(client, first, headers).status_code == 200
    assert upload(client, second, headers).json()["seats"] == 25
    assert client.get("/api/v1/subscription", headers=headers).json()["seats"] == 25

    detail = refused(upload(client, first, headers), "older_than_installed")

    assert detail == (
        "This activation file (issued 2026-03-02 09:00:00 UTC) is not newer than the one already "
        "installed on this server (issued 2026-03-02 10:00:00 UTC, file f-new). An older file never "
        "replaces a newer one."
    )
    assert client.get("/api/v1/subscription", headers=headers).json()["seats"] == 25
    # The same file again is idempotent, not a refusal.
    assert upload(client, second, headers).status_code == 200


def test_setting_the_clock_back_is_detected(
    both_client: TestClient[Any], vendor_key: Ed25519PrivateKey, onprem_clock: FixedClock
) -> None:
    """After a file issued at 12:00 was verified, a server clock at 11:00 is ``clock_set_back``."""
    client = both_client
    noon = START.replace(hour=12)
    onprem_clock.set(noon)
    server = server_id(client)
    assert upload(client, make_file(vendor_key, server=server, now=noon), admin(client)).status_code == 200
    onprem_clock.set(noon - timedelta(hours=1))
    headers = admin(client)

    detail = refused(upload(client, make_file(vendor_key, server=server, now=noon - timedelta(hours=1)),
                            headers), "clock_set_back")

    assert detail == (
        "This server's clock (2026-03-02 11:00:00 UTC) is earlier than the issue time of an activation "
        "file it has already verified (2026-03-02 12:00:00 UTC). The clock appears to have been set back; "
        "correct the server's date and time and try again."
    )
    warnings = client.get("/api/v1/subscription/activation", headers=headers).json()["warnings"]
    assert any("set back" in warning for warning in warnings)


def test_the_licence_holds_seven_days_past_expiry_then_blocks_until_a_renewal_file(
    both_client: TestClient[Any], vendor_key: Ed25519PrivateKey, onprem_clock: FixedClock
) -> None:
    """Expiry + 6 days: allowed with a warning; + 7: 402 expired; a renewal file restores access."""
    client = both_client
    server = server_id(client)
    assert upload(client, make_file(vendor_key, server=server, now=START, expires_on=date(2026, 4, 2)),
                  admin(client)).status_code == 200
    onprem_clock.set(datetime(2026, 4, 8, 23, 0, tzinfo=UTC))
    headers = admin(client)
    assert client.get("/api/v1/me/access", headers=headers).json()["allowed"] is True
    warnings = client.get("/api/v1/subscription/activation", headers=headers).json()["warnings"]
    assert warnings == [
        "The licence expired on 2026-04-02. Stint keeps working up to and including 2026-04-08 "
        "(7 days of grace); install a renewed activation file before then."
    ]

    onprem_clock.set(datetime(2026, 4, 9, 0, 0, tzinfo=UTC))
    headers = admin(client)
    blocked = client.get("/api/v1/me/access", headers=headers).json()
    assert (blocked["allowed"], blocked["reason"]) == (False, "expired")
    assert client.get("/api/v1/worklogs", headers=headers).status_code == 402

    renewal = make_file(vendor_key, server=server, now=onprem_clock.now(), expires_on=date(2027, 4, 9))
    assert upload(client, renewal, headers).status_code == 200  # allowed while expired
    assert client.get("/api/v1/me/access", headers=headers).json()["allowed"] is True


def test_fewer_seats_than_licensed_users_releases_the_least_recent_users(
    both_client: TestClient[Any], vendor_key: Ed25519PrivateKey, onprem_clock: FixedClock
) -> None:
    """A 1-seat file on a tenant whose two users hold seats keeps the most recent user only."""
    client = both_client
    ann = add_user(client, token(client, SLUG, ADMIN), "ann@acme-onprem.test")
    ann_headers = bearer(token(client, SLUG, "ann@acme-onprem.test"))
    assert client.get("/api/v1/me/access", headers=ann_headers).json()["allowed"] is True  # trial: seat
    onprem_clock.advance(days=1)  # last use is kept per day: the admin is the more recent user
    headers = admin(client)
    assert client.get("/api/v1/me/access", headers=headers).json()["allowed"] is True

    text = make_file(vendor_key, server=server_id(client), now=onprem_clock.now(), seats=1)
    assert upload(client, text, headers).status_code == 200

    users = {u["email"]: u for u in client.get("/api/v1/users", headers=headers).json()["items"]}
    assert users[ADMIN]["licensed"] is True and users[ann["email"]]["licensed"] is False


def test_the_dev_key_is_trusted_only_with_the_setting(
    database_url: str, tmp_path: Path, vendor_key: Ed25519PrivateKey, onprem_clock: FixedClock
) -> None:
    """A dev-signed file is ``wrong_key`` by default and accepted with STINT_ACTIVATION_TRUST_DEV_KEY=1."""
    dev = load_or_create_dev_key(tmp_path / "data")
    for trust, expected in (("0", 422), ("1", 200)):
        settings = _settings(database_url, tmp_path, vendor_key, STINT_ACTIVATION_TRUST_DEV_KEY=trust)
        with api_client(settings, onprem_clock) as c:
            if trust == "0":
                signup(c, SLUG, deployment="onprem")
            response = upload(c, make_file(dev, server=server_id(c), now=START), admin(c))
            assert response.status_code == expected, response.text


def test_the_operator_issues_a_file_that_the_server_accepts(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey
) -> None:
    """POST /api/v1/operator/activation-files signs with the vendor key and returns the file."""
    ops = bearer(operator_token(client))
    body = {"tenant": SLUG, "server_id": server_id(client), "plan": "team", "seats": 7,
            "expires_on": "2027-03-02"}
    issued = client.post("/api/v1/operator/activation-files", json=body, headers=ops)
    assert issued.status_code == 201, issued.text
    assert issued.json()["development_key"] is False
    assert issued.json()["key_id"] == key_id(vendor_key.public_key())

    assert upload(client, issued.json()["file"], admin(client)).json()["seats"] == 7
    cloud_plan = client.post("/api/v1/operator/activation-files", json={**body, "plan": "start"}, headers=ops)
    assert cloud_plan.status_code == 422 and cloud_plan.json()["code"] == "validation_error"
    tenant_token = client.post("/api/v1/operator/activation-files", json=body, headers=admin(client))
    assert tenant_token.status_code == 401


def test_only_collection_admins_of_onprem_tenants_can_install_files(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey
) -> None:
    """A regular user gets 403; a cloud tenant's admin gets 409 (cloud tenants are not activated)."""
    add_user(client, token(client, SLUG, ADMIN), "bob@acme-onprem.test")
    bob = bearer(token(client, SLUG, "bob@acme-onprem.test"))
    text = make_file(vendor_key, server=server_id(client), now=START)
    assert upload(client, text, bob).status_code == 403
    signup(client, "cloudco")
    cloud = bearer(token(client, "cloudco", "admin@cloudco.test"))
    response = upload(client, text, cloud)
    assert response.status_code == 409, response.text


def test_the_cli_issues_a_file_and_verifies_it_with_the_dev_key_only_when_trusted(tmp_path: Path) -> None:
    """``stint activation issue`` then ``verify``: exit 1 untrusted, exit 0 with the setting."""
    import os
    import subprocess
    import sys

    stint = str(Path(sys.executable).parent / "stint")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STINT_")}
    env["STINT_DATA_DIR"] = str(tmp_path / "data")
    out = tmp_path / "acme.activation"
    issue = [stint, "activation", "issue", "--tenant", SLUG, "--server-id", "SRV-1", "--plan", "team",
             "--seats", "25", "--expires", "2099-01-01", "--out", str(out)]
    issued = subprocess.run(issue, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert issued.returncode == 0, issued.stderr
    assert "WARNING: signed with the development key" in issued.stdout

    verify = [stint, "activation", "verify", str(out), "--server-id", "SRV-1"]
    untrusted = subprocess.run(verify, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert untrusted.returncode == 1
    assert untrusted.stderr.startswith("Refused (wrong_key):")
    assert "trusted only when STINT_ACTIVATION_TRUST_DEV_KEY=1" in untrusted.stderr
    trusted = subprocess.run(verify, env={**env, "STINT_ACTIVATION_TRUST_DEV_KEY": "1"}, cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
    assert trusted.returncode == 0, trusted.stderr
    assert "is valid" in trusted.stdout and "seats:      25" in trusted.stdout
    elsewhere = subprocess.run([*verify[:-1], "SRV-2"], env={**env, "STINT_ACTIVATION_TRUST_DEV_KEY": "1"},
                               cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert elsewhere.returncode == 1 and elsewhere.stderr.startswith("Refused (other_server):")


def test_an_activated_server_refuses_local_purchases_and_changes_and_says_where_to_make_them(
    client: TestClient[Any], vendor_key: Ed25519PrivateKey
) -> None:
    """The licence comes from the file: buying, quoting, changing, cancelling or resuming here
    would be overwritten by the next file, so each is 409 ``managed_by_activation``."""
    headers = admin(client)
    installed = upload(client, make_file(vendor_key, server=server_id(client), now=START), headers)
    assert installed.status_code == 200, installed.text
    before = client.get("/api/v1/subscription", headers=headers).json()
    assert before["managed_by"] == "activation_file"

    attempts = {
        "/api/v1/subscription/purchase": {"plan": "team", "interval": "monthly", "seats": 20},
        "/api/v1/subscription/quote": {"seats": 20},
        "/api/v1/subscription/change": {"seats": 20},
        "/api/v1/subscription/cancel": None,
        "/api/v1/subscription/resume": None,
    }
    for path, body in attempts.items():
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == 409, (path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["code"] == "managed_by_activation", path
        assert "install the new activation file" in problem["detail"]
    assert client.get("/api/v1/subscription", headers=headers).json() == before
    assert client.get("/api/v1/invoices", headers=headers).json()["items"] == []

"""Operators' second factor (TOTP) on the operator API (issue #15, Done-when 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyotp
import pytest

from core.clock import FixedClock
from core.services.identity import create_operator
from tests.conftest import make_settings
from tests.support.api import PASSWORD, api_client, bearer, current_code, enrolled_operator, run, stint

TOKEN = "/api/v1/operator/auth/token"
ENROL = "/api/v1/operator/me/second-factor"


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Any:
    settings = make_settings(database_url, tmp_path, STINT_RATE_LIMIT_LOGIN="1000")
    with api_client(settings, clock) as c:
        yield c


def _bare_operator(client: Any, email: str = "new@vendor.test") -> str:
    """An operator without a second factor, signed in with the password alone."""
    s = stint(client)
    run(client, create_operator, s.uow, s.hasher, s.clock, email=email, password=PASSWORD)
    response = client.post(TOKEN, json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_an_operator_without_a_second_factor_reaches_nothing_but_enrolment(client: Any) -> None:
    ops = bearer(_bare_operator(client))

    for method, path in [("GET", "/api/v1/operator/tenants"), ("GET", "/api/v1/operator/plans"),
                         ("POST", "/api/v1/operator/tenants/acme/trial")]:
        response = client.request(method, path, headers=ops, json={"ends_on": "2026-02-01"})
        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"] == "second_factor_required"
    assert client.get(ENROL, headers=ops).json() == {"enrolled": False, "required": True}


def test_enrolling_with_a_confirmed_code_opens_the_operator_api_and_gives_ten_recovery_codes(
    client: Any, clock: FixedClock
) -> None:
    ops = bearer(_bare_operator(client))
    started = client.post(ENROL, headers=ops)
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    assert started.json()["otpauth_uri"].startswith("otpauth://totp/Stint:new%40vendor.test?secret=" + secret)

    wrong = client.post(f"{ENROL}/confirm", json={"code": "000000"}, headers=ops)
    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_code"
    confirmed = client.post(f"{ENROL}/confirm", json={"code": current_code(client, secret)}, headers=ops)
    assert confirmed.status_code == 200, confirmed.text
    recovery = confirmed.json()["recovery_codes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10

    assert client.get("/api/v1/operator/plans", headers=ops).status_code == 200
    # From now on the password alone is not enough.
    clock.advance(seconds=60)
    alone = client.post(TOKEN, json={"email": "new@vendor.test", "password": PASSWORD})
    assert alone.status_code == 401 and alone.json()["code"] == "code_needed"


def test_the_sign_in_refuses_a_wrong_code_and_accepts_the_current_one_once(
    client: Any, clock: FixedClock
) -> None:
    secret, _ = enrolled_operator(client)
    body = {"email": "ops@vendor.test", "password": PASSWORD}

    bad_code = "123456" if current_code(client, secret) != "123456" else "654321"
    wrong = client.post(TOKEN, json={**body, "code": bad_code})
    right = client.post(TOKEN, json={**body, "code": current_code(client, secret)})
    again = client.post(TOKEN, json={**body, "code": current_code(client, secret)})
    clock.advance(seconds=30)
    next_one = client.post(TOKEN, json={**body, "code": current_code(client, secret)})

    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    assert right.status_code == 200, right.text
    assert again.status_code == 401, "a code is good once"
    assert next_one.status_code == 200, next_one.text
    signed_in = bearer(right.json()["access_token"])
    assert client.get("/api/v1/operator/plans", headers=signed_in).status_code == 200


def test_a_code_from_another_time_is_refused_by_the_apps_clock(client: Any, clock: FixedClock) -> None:
    secret, _ = enrolled_operator(client)
    stale = pyotp.TOTP(secret).at(clock.now().timestamp() - 300)

    response = client.post(TOKEN, json={"email": "ops@vendor.test", "password": PASSWORD, "code": stale})

    assert response.status_code == 401


def test_a_recovery_code_signs_in_once(client: Any) -> None:
    _, recovery = enrolled_operator(client)
    body = {"email": "ops@vendor.test", "password": PASSWORD, "code": recovery[0].upper()}

    first = client.post(TOKEN, json=body)
    second = client.post(TOKEN, json=body)

    assert first.status_code == 200, first.text
    assert second.status_code == 401


def test_operator_sign_ins_and_failures_are_in_the_installation_trail_with_the_address(client: Any) -> None:
    secret, _ = enrolled_operator(client)
    client.post(TOKEN, json={"email": "ops@vendor.test", "password": PASSWORD, "code": "000000"})
    client.post(TOKEN, json={"email": "ops@vendor.test", "password": PASSWORD,
                             "code": current_code(client, secret)})

    async def trail() -> list[Any]:
        from core.audit import AuditQuery

        async with stint(client).uow() as work:
            return await work.directory.audit_page(AuditQuery(tenant_id=None, action="operator.signin"))

    rows = run(client, trail)
    # Both at the test clock's one instant: their order between themselves is not defined.
    assert sorted((r.action, str(r.detail), r.address) for r in rows) == [
        ("operator.signin", str({"second_factor": "totp"}), "testclient"),
        ("operator.signin.failed", str({"reason": "code"}), "testclient"),
    ]


def test_with_the_requirement_off_an_operator_without_a_factor_has_the_api(
    database_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    settings = make_settings(database_url, tmp_path, STINT_OPERATOR_2FA_REQUIRED="0")
    with api_client(settings, clock) as client:
        ops = bearer(_bare_operator(client))
        assert client.get("/api/v1/operator/plans", headers=ops).status_code == 200

"""Tenant users' second factor (TOTP) and the tenant's "require it of everyone" (issue #15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import (
    PASSWORD,
    add_user,
    api_client,
    bearer,
    current_code,
    enrol_user,
    signup,
    token,
)
from web.pages.session import ACCESS_COOKIE

TOKEN = "/api/v1/auth/token"
ENROL = "/api/v1/me/second-factor"
SETTINGS = "/api/v1/settings/security"
ADMIN = {"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD}
ANN = {"tenant": "acme", "email": "ann@acme.test", "password": PASSWORD}


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Any:
    settings = make_settings(database_url, tmp_path, STINT_RATE_LIMIT_LOGIN="3")
    with api_client(settings, clock) as c:
        signup(c, "acme")
        yield c


def _admin(client: Any) -> str:
    return token(client, "acme", "admin@acme.test")


def _ann(client: Any) -> str:
    """A Team user of acme, signed in with the password alone."""
    add_user(client, _admin(client), "ann@acme.test")
    return token(client, "acme", "ann@acme.test")


def _other(client: Any, code: str) -> str:
    return "123456" if code != "123456" else "654321"


def _audit(client: Any, admin: str, action: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/audit?action={action}", headers=bearer(admin))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_user_enrols_with_a_confirmed_code_and_gets_ten_recovery_codes(client: Any) -> None:
    ann = bearer(_ann(client))
    assert client.get(ENROL, headers=ann).json() == {"enrolled": False, "required": False}

    started = client.post(ENROL, headers=ann)
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    assert started.json()["otpauth_uri"].startswith("otpauth://totp/Stint:ann%40acme.test?secret=" + secret)
    wrong = client.post(f"{ENROL}/confirm", json={"code": _other(client, current_code(client, secret))},
                        headers=ann)
    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_code"
    confirmed = client.post(f"{ENROL}/confirm", json={"code": current_code(client, secret)}, headers=ann)

    assert confirmed.status_code == 200, confirmed.text
    assert len(set(confirmed.json()["recovery_codes"])) == 10
    assert client.get(ENROL, headers=ann).json() == {"enrolled": True, "required": False}
    again = client.post(ENROL, headers=ann)
    assert again.status_code == 409


def test_sign_in_asks_for_the_code_without_counting_it_as_a_failure(client: Any, clock: FixedClock) -> None:
    secret, _ = enrol_user(client, _ann(client))
    clock.advance(seconds=30)

    # More than the limit of three failed sign-ins: none of them is counted.
    for _ in range(4):
        missing = client.post(TOKEN, json=ANN)
        assert missing.status_code == 401 and missing.json()["code"] == "code_needed"
    signed_in = client.post(TOKEN, json={**ANN, "code": current_code(client, secret)})

    assert signed_in.status_code == 200, signed_in.text
    assert client.get("/api/v1/me", headers=bearer(signed_in.json()["access_token"])).status_code == 200


def test_a_wrong_code_is_refused_and_counted_and_a_code_is_good_once(client: Any, clock: FixedClock) -> None:
    secret, _ = enrol_user(client, _ann(client))
    clock.advance(seconds=30)
    code = current_code(client, secret)

    wrong = client.post(TOKEN, json={**ANN, "code": _other(client, code)})
    right = client.post(TOKEN, json={**ANN, "code": code})
    replayed = client.post(TOKEN, json={**ANN, "code": code})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    assert right.status_code == 200, right.text
    assert replayed.status_code == 401
    # Two failures so far; the third reaches the limit, and then even the right code waits.
    client.post(TOKEN, json={**ANN, "code": _other(client, code)})
    clock.advance(seconds=30)
    limited = client.post(TOKEN, json={**ANN, "code": current_code(client, secret)})
    assert limited.status_code == 429, limited.text


def test_a_recovery_code_signs_in_once(client: Any) -> None:
    _, recovery = enrol_user(client, _ann(client))

    first = client.post(TOKEN, json={**ANN, "code": recovery[0].upper()})
    second = client.post(TOKEN, json={**ANN, "code": recovery[0]})

    assert first.status_code == 200, first.text
    assert second.status_code == 401


def test_switching_off_needs_a_current_code_or_the_password(client: Any, clock: FixedClock) -> None:
    ann_token = _ann(client)
    ann = bearer(ann_token)
    enrol_user(client, ann_token)

    wrong = client.request("DELETE", ENROL, json={"password": "not the password"}, headers=ann)
    neither = client.request("DELETE", ENROL, json={}, headers=ann)
    done = client.request("DELETE", ENROL, json={"password": PASSWORD}, headers=ann)

    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_code"
    assert neither.status_code == 422
    assert done.status_code == 204, done.text
    assert client.get(ENROL, headers=ann).json() == {"enrolled": False, "required": False}
    assert client.post(TOKEN, json=ANN).status_code == 200


def test_an_administrator_without_a_factor_cannot_require_one(client: Any) -> None:
    admin = _admin(client)

    refused = client.put(SETTINGS, json={"require_second_factor": True}, headers=bearer(admin))

    assert refused.status_code == 409 and refused.json()["code"] == "enrol_first"
    assert client.get(SETTINGS, headers=bearer(admin)).json() == {"require_second_factor": False}


def test_a_team_user_cannot_read_or_change_the_security_settings(client: Any) -> None:
    ann = bearer(_ann(client))
    assert client.get(SETTINGS, headers=ann).status_code == 403
    assert client.put(SETTINGS, json={"require_second_factor": False}, headers=ann).status_code == 403


def _require(client: Any) -> str:
    """acme requires a second factor; its administrator has one. The admin's token."""
    admin = _admin(client)
    enrol_user(client, admin)
    turned_on = client.put(SETTINGS, json={"require_second_factor": True}, headers=bearer(admin))
    assert turned_on.status_code == 200, turned_on.text
    assert turned_on.json() == {"require_second_factor": True}
    return admin


def test_the_requirement_refuses_a_user_without_a_factor_everything_but_enrolment(client: Any) -> None:
    ann_token = _ann(client)
    ann = bearer(ann_token)
    admin = _require(client)

    for method, path in [("GET", "/api/v1/me"), ("GET", "/api/v1/worklogs"), ("GET", "/api/v1/me/tokens")]:
        response = client.request(method, path, headers=ann)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"] == "second_factor_required"
    assert client.get(ENROL, headers=ann).json() == {"enrolled": False, "required": True}
    # The administrator who has one goes on as before.
    assert client.get("/api/v1/me", headers=bearer(admin)).status_code == 200

    enrol_user(client, ann_token)
    assert client.get("/api/v1/me", headers=ann).status_code == 200
    kept = client.request("DELETE", ENROL, json={"password": PASSWORD}, headers=ann)
    assert kept.status_code == 409 and kept.json()["code"] == "second_factor_required_by_tenant"


def test_a_personal_access_token_made_before_the_requirement_keeps_working(client: Any) -> None:
    ann = bearer(_ann(client))
    made = client.post("/api/v1/me/tokens", json={"name": "ci", "expires_in_days": 30}, headers=ann)
    assert made.status_code == 201, made.text
    _require(client)

    assert client.get("/api/v1/me", headers=ann).status_code == 403
    assert client.get("/api/v1/me", headers=bearer(made.json()["token"])).status_code == 200


def test_another_tenants_users_are_not_affected_by_the_requirement(client: Any) -> None:
    signup(client, "globex")
    _require(client)

    other = token(client, "globex", "admin@globex.test")

    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200
    assert client.get(ENROL, headers=bearer(other)).json() == {"enrolled": False, "required": False}


def test_the_pages_send_a_user_without_a_factor_to_the_security_page(client: Any) -> None:
    _ann(client)
    _require(client)
    client.get("/")
    form = {**ANN, "_csrf_token": client.cookies["csrftoken"]}
    assert client.post("/signin", data=form, follow_redirects=False).status_code == 303

    page = client.get("/time", follow_redirects=False)
    partial = client.get("/time", headers={"HX-Request": "true"}, follow_redirects=False)
    security = client.get("/settings/security")

    assert page.status_code == 303 and page.headers["location"] == "/settings/security?next=%2Ftime"
    assert partial.headers.get("hx-redirect") == "/settings/security"
    assert security.status_code == 200
    assert "requires a second factor for everyone" in security.text


def test_the_sign_in_page_asks_for_the_code_then_signs_in_with_it(client: Any, clock: FixedClock) -> None:
    secret, _ = enrol_user(client, _ann(client))
    clock.advance(seconds=30)
    client.get("/")
    form = {**ANN, "_csrf_token": client.cookies["csrftoken"]}

    asked = client.post("/signin", data=form, follow_redirects=False)
    signed_in = client.post("/signin", data={**form, "code": current_code(client, secret)},
                            follow_redirects=False)

    assert asked.status_code == 401 and 'name="code"' in asked.text
    assert ACCESS_COOKIE not in asked.cookies
    assert signed_in.status_code == 303, signed_in.text
    assert ACCESS_COOKIE in client.cookies


def test_enrolment_on_the_security_page(client: Any) -> None:
    import re

    _ann(client)
    client.get("/")
    csrf = {"_csrf_token": client.cookies["csrftoken"]}
    assert client.post("/signin", data={**ANN, **csrf}, follow_redirects=False).status_code == 303

    started = client.post("/settings/security/second-factor", data=csrf)
    secret = re.search(r'class="secret" value="([A-Z2-7]+)"', started.text)
    assert started.status_code == 200 and secret is not None
    confirmed = client.post(
        "/settings/security/second-factor/confirm",
        data={**csrf, "code": current_code(client, secret.group(1))},
    )

    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.text.count("<li><code>") == 10
    assert client.get(ENROL, headers=bearer(client.cookies[ACCESS_COOKIE])).json()["enrolled"] is True


def test_sign_ins_with_the_factor_and_wrong_codes_are_in_the_tenants_audit_with_the_address(
    client: Any, clock: FixedClock
) -> None:
    secret, _ = enrol_user(client, _ann(client))
    clock.advance(seconds=30)
    client.post(TOKEN, json={**ANN, "code": _other(client, current_code(client, secret))})
    client.post(TOKEN, json={**ANN, "code": current_code(client, secret)})
    admin = _admin(client)

    signins = [e for e in _audit(client, admin, "signin") if e["subject"] == "ann@acme.test"]
    failures = _audit(client, admin, "signin.failed")
    enrolled = _audit(client, admin, "second_factor.enrolled")

    assert {"second_factor": "totp"} in [e["detail"] for e in signins]
    assert [(e["subject"], e["detail"], e["address"]) for e in failures] == [
        ("ann@acme.test", {"reason": "code"}, "testclient")
    ]
    assert [e["subject"] for e in enrolled] == ["ann@acme.test"]


def test_wrong_codes_while_enrolling_are_limited_like_failed_sign_ins(client: Any) -> None:
    ann = bearer(_ann(client))
    secret = client.post(ENROL, headers=ann).json()["secret"]
    wrong = {"code": _other(client, current_code(client, secret))}

    answers = [client.post(f"{ENROL}/confirm", json=wrong, headers=ann).status_code for _ in range(3)]
    limited = client.post(f"{ENROL}/confirm", json={"code": current_code(client, secret)}, headers=ann)

    assert answers == [422, 422, 422]
    assert limited.status_code == 429, limited.text


def test_an_administrator_removes_a_lost_factor_and_the_user_sets_up_a_new_one(client: Any) -> None:
    ann_token = _ann(client)
    admin = _require(client)
    enrol_user(client, ann_token)
    ann_id = client.get("/api/v1/me", headers=bearer(ann_token)).json()["id"]

    reset = client.request("DELETE", f"/api/v1/users/{ann_id}/second-factor", headers=bearer(admin))
    again = client.request("DELETE", f"/api/v1/users/{ann_id}/second-factor", headers=bearer(admin))
    by_ann = client.request("DELETE", f"/api/v1/users/{ann_id}/second-factor", headers=bearer(ann_token))

    assert reset.status_code == 204, reset.text
    assert again.status_code == 404
    assert by_ann.status_code == 403
    # The password alone signs in again; the tenant still requires a factor, so enrolment first.
    fresh = client.post(TOKEN, json=ANN)
    assert fresh.status_code == 200, fresh.text
    assert client.get("/api/v1/me", headers=bearer(fresh.json()["access_token"])).status_code == 403
    assert [e["subject"] for e in _audit(client, admin, "second_factor.reset")] == ["ann@acme.test"]


def test_another_tenants_administrator_cannot_remove_a_users_factor(client: Any) -> None:
    ann_token = _ann(client)
    enrol_user(client, ann_token)
    ann_id = client.get("/api/v1/me", headers=bearer(ann_token)).json()["id"]
    signup(client, "globex")
    other = token(client, "globex", "admin@globex.test")

    refused = client.request("DELETE", f"/api/v1/users/{ann_id}/second-factor", headers=bearer(other))

    assert refused.status_code == 404
    assert client.get(ENROL, headers=bearer(ann_token)).json()["enrolled"] is True


def test_the_users_list_says_who_has_a_factor_and_the_users_page_removes_one(client: Any) -> None:
    ann_token = _ann(client)
    enrol_user(client, ann_token)
    admin = _admin(client)
    listed = client.get("/api/v1/users", headers=bearer(admin)).json()["items"]
    ann = next(u for u in listed if u["email"] == "ann@acme.test")
    assert ann["second_factor"] is True
    client.get("/")
    csrf = {"_csrf_token": client.cookies["csrftoken"]}
    assert client.post("/signin", data={**ADMIN, **csrf}, follow_redirects=False).status_code == 303

    shown = client.get("/settings/users")
    removed = client.post(f"/settings/users/user/{ann['id']}/second-factor/remove", data=csrf)

    assert "Remove the second factor: ann@acme.test" in shown.text
    assert removed.status_code == 200, removed.text
    assert "The second factor is removed" in removed.text
    assert client.get(ENROL, headers=bearer(ann_token)).json()["enrolled"] is False


def test_enrolling_on_the_way_to_an_apps_authorisation_leads_back_to_it(client: Any) -> None:
    """The tenant requires a factor; a user without one follows an app's authorisation link:
    after setting the factor up, "Continue" leads to that same request, query and all."""
    import re
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    _ann(client)
    _require(client)
    client.get("/")
    csrf = {"_csrf_token": client.cookies["csrftoken"]}
    assert client.post("/signin", data={**ANN, **csrf}, follow_redirects=False).status_code == 303
    authorise = "/oauth/authorize?response_type=code&client_id=stint-tracker&state=xyz&scope=tracking"

    sent = client.get(authorise, follow_redirects=False)
    assert sent.status_code == 303
    location = urlsplit(sent.headers["location"])
    assert location.path == "/settings/security" and parse_qs(location.query)["next"] == [authorise]
    started = client.post("/settings/security/second-factor", data={**csrf, "next": authorise})
    secret = re.search(r'class="secret" value="([A-Z2-7]+)"', started.text)
    assert secret is not None and f'name="next" value="{authorise.replace("&", "&amp;")}"' in started.text
    confirmed = client.post("/settings/security/second-factor/confirm",
                            data={**csrf, "code": current_code(client, secret.group(1)), "next": authorise})
    link = re.search(r'<a href="([^"]+)" id="second-factor-continue">', confirmed.text)
    assert confirmed.status_code == 200 and link is not None and unescape(link.group(1)) == authorise
    # Another site is never where "Continue" leads.
    elsewhere = client.get("/settings/security", params={"next": "//evil.test/x"})
    assert "evil.test" not in elsewhere.text

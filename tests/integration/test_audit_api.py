"""The tenant's security history through ``GET /api/v1/audit`` (issue #15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import PASSWORD, add_user, api_client, bearer, signup, token

#: The address the Litestar test client's requests come from.
CLIENT = "testclient"


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Any:
    settings = make_settings(database_url, tmp_path, STINT_RATE_LIMIT_LOGIN="1000")
    with api_client(settings, clock) as c:
        yield c


def _sign_in(client: Any, slug: str, email: str, password: str) -> int:
    body = {"tenant": slug, "email": email, "password": password}
    return int(client.post("/api/v1/auth/token", json=body).status_code)


def test_lists_sign_ins_and_failed_sign_ins_with_their_addresses_newest_first(
    client: Any, clock: FixedClock
) -> None:
    """A right password, a wrong one and an unknown account, each with where it came from."""
    signup(client, "acme")
    assert _sign_in(client, "acme", "admin@acme.test", PASSWORD) == 200
    clock.advance(seconds=1)
    assert _sign_in(client, "acme", "admin@acme.test", "not the password") == 401
    clock.advance(seconds=1)
    assert _sign_in(client, "acme", "nobody@acme.test", PASSWORD) == 401
    clock.advance(seconds=1)
    admin = token(client, "acme", "admin@acme.test")

    response = client.get("/api/v1/audit", params={"action": "signin"}, headers=bearer(admin))

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    seen = [(i["action"], i["subject"], i["address"], i["detail"].get("reason")) for i in items]
    assert seen == [
        ("signin", "admin@acme.test", CLIENT, None),
        ("signin.failed", "nobody@acme.test", CLIENT, "unknown_account"),
        ("signin.failed", "admin@acme.test", CLIENT, "password"),
        ("signin", "admin@acme.test", CLIENT, None),
    ]
    assert items[0]["actor"].startswith("user:") and items[1]["actor"] == "unknown"


def test_the_same_answer_for_an_unknown_account_and_a_wrong_password(client: Any) -> None:
    """Recording the failure reveals nothing to the caller: both are the same 401."""
    signup(client, "acme")
    wrong = client.post("/api/v1/auth/token", json={"tenant": "acme", "email": "admin@acme.test",
                                                    "password": "not it"})
    unknown = client.post("/api/v1/auth/token", json={"tenant": "acme", "email": "ghost@acme.test",
                                                      "password": "not it"})
    assert (wrong.status_code, wrong.json()["detail"]) == (unknown.status_code, unknown.json()["detail"])


@pytest.mark.parametrize("role", ["team", "product", "budget"])
def test_refuses_the_audit_to_every_role_below_administrator(client: Any, role: str) -> None:
    signup(client, "acme")
    admin = token(client, "acme", "admin@acme.test")
    add_user(client, admin, f"{role}@acme.test", role=role)
    user = token(client, "acme", f"{role}@acme.test")

    response = client.get("/api/v1/audit", headers=bearer(user))

    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_permitted"


def test_records_token_and_role_changes_with_the_address(client: Any) -> None:
    signup(client, "acme")
    admin = token(client, "acme", "admin@acme.test")
    bo = add_user(client, admin, "bo@acme.test", role="team")
    new_token = {"name": "ci", "expires_in_days": 5}
    created = client.post("/api/v1/me/tokens", json=new_token, headers=bearer(admin))
    assert created.status_code == 201
    client.delete(f"/api/v1/me/tokens/{created.json()['id']}", headers=bearer(admin))
    client.patch(f"/api/v1/users/{bo['id']}", json={"role": "product"}, headers=bearer(admin))

    items = client.get("/api/v1/audit", headers=bearer(admin)).json()["items"]

    by_action = {i["action"]: i for i in items}
    assert by_action["token.created"]["subject"] == "ci"
    assert by_action["token.revoked"]["subject"] == created.json()["id"]
    changed = by_action["user.changed"]
    assert (changed["subject"], changed["detail"]["role"], changed["detail"]["before"]["role"]) == (
        "bo@acme.test", "product", "team"
    )
    assert all(by_action[a]["address"] == CLIENT for a in ("token.created", "token.revoked", "user.changed"))


def test_filters_by_user_what_they_did_and_what_was_done_to_them(client: Any) -> None:
    signup(client, "acme")
    admin = token(client, "acme", "admin@acme.test")
    bo = add_user(client, admin, "bo@acme.test", role="team")
    token(client, "acme", "bo@acme.test")
    client.patch(f"/api/v1/users/{bo['id']}", json={"role": "product"}, headers=bearer(admin))

    items = client.get("/api/v1/audit", params={"user": bo["id"]}, headers=bearer(admin)).json()["items"]

    assert {i["action"] for i in items} == {"user.added", "signin", "user.changed"}
    assert all(i["subject"] == "bo@acme.test" or i["actor"] == f"user:{bo['id']}" for i in items)


def test_a_user_of_another_tenant_is_not_found(client: Any) -> None:
    signup(client, "acme")
    signup(client, "other")
    admin = token(client, "acme", "admin@acme.test")
    theirs = client.get("/api/v1/me", headers=bearer(token(client, "other", "admin@other.test"))).json()

    response = client.get("/api/v1/audit", params={"user": theirs["id"]}, headers=bearer(admin))

    assert response.status_code == 404, response.text


def test_pages_through_the_trail_with_an_opaque_cursor_and_no_row_twice(
    client: Any, clock: FixedClock
) -> None:
    signup(client, "acme")
    for _ in range(4):
        token(client, "acme", "admin@acme.test")
    # Two sign-ins in the same instant: the cursor must still split them exactly.
    clock.advance(seconds=1)
    admin = token(client, "acme", "admin@acme.test")
    token(client, "acme", "admin@acme.test")
    everything = client.get("/api/v1/audit", params={"limit": 200}, headers=bearer(admin)).json()["items"]

    seen: list[Any] = []
    cursor = ""
    while True:
        asked = {"limit": 2, "cursor": cursor}
        page = client.get("/api/v1/audit", params=asked, headers=bearer(admin)).json()
        seen.extend(page["items"])
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
        assert cursor.replace("-", "").replace("_", "").isalnum()

    assert seen == everything and len(seen) >= 7
    assert [i["at"] for i in seen] == sorted((i["at"] for i in seen), reverse=True)


def test_refuses_a_cursor_it_did_not_give_with_a_problem(client: Any) -> None:
    signup(client, "acme")
    admin = token(client, "acme", "admin@acme.test")

    response = client.get("/api/v1/audit", params={"cursor": "not-a-cursor!"}, headers=bearer(admin))

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"

"""Deactivating users, roles in bulk and the editing rule through the API (issue #17), on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import PASSWORD, add_user, api_client, bearer, signup, token


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Any]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        signup(client, "acme")
        yield client


def _sign_in(client: Any, email: str) -> Any:
    return client.post("/api/v1/auth/token", json={"tenant": "acme", "email": email, "password": PASSWORD})


def test_a_deactivated_user_is_refused_everywhere_at_once_and_keeps_their_worklogs(client: Any) -> None:
    """Their access token, personal token and refresh token stop working with the next
    request; they cannot sign in; they are listed inactive without a seat; their worklogs
    stay. Reactivated, they sign in again — their old tokens stay revoked."""
    admin = bearer(token(client, "acme", "admin@acme.test"))
    ann = add_user(client, admin["Authorization"][7:], "ann@acme.test")
    pair = _sign_in(client, "ann@acme.test").json()
    ann_headers = bearer(pair["access_token"])
    pat = client.post("/api/v1/me/tokens", json={"name": "ci", "expires_in_days": 5}, headers=ann_headers)
    assert pat.status_code == 201, pat.text
    logged = client.post("/api/v1/worklogs", json={"started_at": "2026-01-05T09:00:00Z", "length_s": 600},
                         headers=ann_headers)
    assert logged.status_code == 201, logged.text

    gone = client.delete(f"/api/v1/users/{ann['id']}", headers=admin)

    assert gone.status_code == 200, gone.text
    assert gone.json()["active"] is False and gone.json()["licensed"] is False
    refused = client.get("/api/v1/me", headers=ann_headers)
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "user_deactivated"
    assert client.get("/api/v1/me", headers=bearer(pat.json()["token"])).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 401
    assert _sign_in(client, "ann@acme.test").status_code == 401
    listed = {u["email"]: u for u in client.get("/api/v1/users", headers=admin).json()["items"]}
    assert (listed["ann@acme.test"]["active"], listed["ann@acme.test"]["licensed"]) == (False, False)
    kept = client.get("/api/v1/worklogs", params={"user": ann["id"]}, headers=admin).json()["items"]
    assert [w["id"] for w in kept] == [logged.json()["id"]]

    back = client.patch(f"/api/v1/users/{ann['id']}", json={"active": True}, headers=admin)

    assert back.status_code == 200, back.text
    assert back.json()["active"] is True
    for headers in (ann_headers, bearer(pat.json()["token"])):
        assert client.get("/api/v1/me", headers=headers).status_code == 401
    again = _sign_in(client, "ann@acme.test")
    assert again.status_code == 200, again.text
    assert client.get("/api/v1/me", headers=bearer(again.json()["access_token"])).status_code == 200


def test_an_administrator_cannot_deactivate_themselves_and_only_administrators_deactivate(
    client: Any,
) -> None:
    admin = bearer(token(client, "acme", "admin@acme.test"))
    me = client.get("/api/v1/me", headers=admin).json()
    add_user(client, admin["Authorization"][7:], "bob@acme.test")
    bob_headers = bearer(token(client, "acme", "bob@acme.test"))

    self_ = client.delete(f"/api/v1/users/{me['id']}", headers=admin)
    by_team = client.delete(f"/api/v1/users/{me['id']}", headers=bob_headers)
    unknown = client.delete("/api/v1/users/nobody", headers=admin)

    assert (self_.status_code, self_.json()["code"]) == (409, "deactivate_self")
    assert by_team.status_code in (403, 404)
    assert unknown.status_code == 404
    assert all(u["active"] for u in client.get("/api/v1/users", headers=admin).json()["items"])


def test_roles_in_bulk_are_all_or_nothing_and_count_the_seats_of_the_whole_batch(client: Any) -> None:
    admin_token = token(client, "acme", "admin@acme.test")
    admin = bearer(admin_token)
    bought = client.post("/api/v1/subscription/purchase", headers=admin,
                         json={"plan": "team", "interval": "monthly", "seats": 3})
    assert bought.status_code == 200, bought.text
    ids = [add_user(client, admin_token, f"u{n}@acme.test")["id"] for n in range(4)]
    taken = client.get("/api/v1/users", headers=admin).json()["seats_taken"]

    unknown = client.post("/api/v1/users/roles", json={"users": [*ids, "nobody"], "role": "product"},
                          headers=admin)
    too_many = client.post("/api/v1/users/roles", json={"users": ids, "licensed": True}, headers=admin)

    assert unknown.status_code == 404, unknown.text
    assert [e["id"] for e in unknown.json()["errors"]] == ["nobody"]
    assert too_many.status_code == 409, too_many.text
    assert too_many.json()["code"] == "seat_limit"
    assert too_many.json()["needed"] == 4 and too_many.json()["free"] == 3 - taken
    users = {u["id"]: u for u in client.get("/api/v1/users", headers=admin).json()["items"]}
    assert {(users[i]["role"], users[i]["licensed"]) for i in ids} == {("team", False)}

    fits = ids[: 3 - taken]
    done = client.post("/api/v1/users/roles", json={"users": fits, "role": "product", "licensed": True},
                       headers=admin)

    assert done.status_code == 200, done.text
    assert {(u["role"], u["licensed"]) for u in done.json()["items"]} == {("product", True)}


def test_the_editing_rule_decides_whether_product_edits_other_peoples_time(client: Any) -> None:
    admin_token = token(client, "acme", "admin@acme.test")
    admin = bearer(admin_token)
    add_user(client, admin_token, "ann@acme.test")
    add_user(client, admin_token, "pat@acme.test", role="product")
    ann, pat = (bearer(token(client, "acme", f"{n}@acme.test")) for n in ("ann", "pat"))
    theirs = client.post("/api/v1/worklogs", json={"started_at": "2026-01-05T09:00:00Z", "length_s": 600},
                         headers=ann).json()
    url = f"/api/v1/worklogs/{theirs['id']}"

    assert client.get("/api/v1/settings/editing", headers=admin).json() == {"who": "administrators"}
    assert client.patch(url, json={"comment": "by pat"}, headers=pat).status_code == 403
    by_pat = client.put("/api/v1/settings/editing", json={"who": "product"}, headers=pat)
    assert by_pat.status_code in (403, 404)
    assert client.put("/api/v1/settings/editing", json={"who": "everyone"}, headers=admin).status_code == 422

    assert client.put("/api/v1/settings/editing", json={"who": "product"}, headers=admin).json() == {
        "who": "product"
    }
    edited = client.patch(url, json={"comment": "by pat"}, headers=pat)

    assert edited.status_code == 200, edited.text
    assert client.get("/api/v1/settings/editing", headers=admin).json() == {"who": "product"}


def test_under_the_approval_managers_rule_a_named_approver_edits_only_the_people_they_approve(
    client: Any,
) -> None:
    """An approver named for some users decides their weeks only, so under the rule they
    edit those users' time and nobody else's (before, the rule looked only at the global
    approval-manager flag: a named approver edited nobody's)."""
    admin_token = token(client, "acme", "admin@acme.test")
    admin = bearer(admin_token)
    ann = add_user(client, admin_token, "ann@acme.test")
    add_user(client, admin_token, "bob@acme.test")
    val = add_user(client, admin_token, "val@acme.test")
    named = client.put(f"/api/v1/users/{ann['id']}/approvers", json={"approver_ids": [val["id"]]},
                       headers=admin)
    assert named.status_code == 200, named.text
    ann_h, bob_h, val_h = (bearer(token(client, "acme", f"{n}@acme.test")) for n in ("ann", "bob", "val"))
    logged = {
        who: client.post("/api/v1/worklogs", json={"started_at": "2026-01-05T09:00:00Z", "length_s": 600},
                         headers=headers).json()["id"]
        for who, headers in (("ann", ann_h), ("bob", bob_h))
    }

    def edit(who: str) -> int:
        return int(client.patch(f"/api/v1/worklogs/{logged[who]}", json={"comment": "by val"},
                                headers=val_h).status_code)

    assert (edit("ann"), edit("bob")) == (403, 403)  # the default rule: Administrators only
    assert client.put("/api/v1/settings/editing", json={"who": "approval_managers"},
                      headers=admin).status_code == 200

    assert (edit("ann"), edit("bob")) == (200, 403)
    gone = client.delete(f"/api/v1/worklogs/{logged['bob']}", headers=val_h)
    assert gone.status_code == 403
    mine = client.get("/api/v1/worklogs", headers=ann_h).json()["items"]
    assert [(w["id"], w["comment"]) for w in mine] == [(logged["ann"], "by val")]

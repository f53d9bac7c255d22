"""Rotating the secret keys signs nobody out (issue #15, Done-when 4): the same database
served after a restart with a new current key, then after the old key is removed. Access
tokens, page sessions and their CSRF cookies, and sealed DevOps tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from plugins.devops.sealing import PatSealer, UnreadableToken
from plugins.identity.keys import SigningKey, SigningKeys
from plugins.storage.tracking_tables import DevOpsConnectionRow
from tests.conftest import make_settings
from tests.support.api import PASSWORD, api_client, bearer, run, signup, stint
from web.pages.session import ACCESS_COOKIE, REFRESH_COOKIE

OLD = SigningKey("2026-01", "old-secret-key-" + "o" * 40)
NEW = SigningKey("2026-07", "new-secret-key-" + "n" * 40)


@contextmanager
def served(
    database_url: str, tmp_path: Path, clock: FixedClock, *keys: SigningKey
) -> Iterator[TestClient[Any]]:
    """The app on this database with this key ring (a restart after changing STINT_SECRET_KEYS)."""
    ring = ",".join(f"{key.kid}:{key.secret}" for key in keys)
    settings = make_settings(database_url, tmp_path, STINT_SECRET_KEY="", STINT_SECRET_KEYS=ring)
    with api_client(settings, clock) as client:
        yield client


def sign_in(client: TestClient[Any]) -> dict[str, Any]:
    response = client.post(
        "/api/v1/auth/token", json={"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def test_a_rotation_keeps_tokens_signed_with_the_previous_key_valid_until_that_key_is_removed(
    database_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    with served(database_url, tmp_path, clock, OLD) as before:
        signup(before, "acme")
        pair = sign_in(before)
    assert kid(pair["access_token"]) == OLD.kid

    with served(database_url, tmp_path, clock, NEW, OLD) as rotated:
        assert rotated.get("/api/v1/me", headers=bearer(pair["access_token"])).status_code == 200
        renewed = rotated.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).json()
        assert kid(renewed["access_token"]) == NEW.kid
        assert rotated.get("/api/v1/me", headers=bearer(renewed["access_token"])).status_code == 200

    with served(database_url, tmp_path, clock, NEW) as retired:
        refused = retired.get("/api/v1/me", headers=bearer(pair["access_token"]))
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
        assert "does not accept" in refused.json()["detail"]
        assert retired.get("/api/v1/me", headers=bearer(renewed["access_token"])).status_code == 200


def _carry(cookies: dict[str, str], client: TestClient[Any]) -> None:
    """The browser's cookies, presented to the restarted server."""
    for name, value in cookies.items():
        client.cookies.set(name, value, domain="testserver.local")


def test_a_page_session_and_its_open_forms_survive_a_rotation_and_the_old_keys_removal(
    sqlite_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    with served(sqlite_url, tmp_path, clock, OLD) as before:
        signup(before, "acme")
        before.get("/")
        form = {"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD,
                "_csrf_token": before.cookies["csrftoken"]}
        assert before.post("/signin", data=form, follow_redirects=False).status_code == 303
        browser = dict(before.cookies.items())

    with served(sqlite_url, tmp_path, clock, NEW, OLD) as rotated:
        _carry(browser, rotated)
        # A form rendered before the rotation still posts: its CSRF token was signed with OLD.
        started = rotated.post("/time/start", data={"comment": "before", "_csrf_token": browser["csrftoken"]})
        assert started.status_code == 200 and 'data-running="true"' in started.text
        assert rotated.cookies["csrftoken"] == browser["csrftoken"]

    with served(sqlite_url, tmp_path, clock, NEW) as retired:
        _carry(browser, retired)
        # OLD is gone: its CSRF token no longer posts, and the access cookie is renewed
        # from the refresh cookie (not a signature) instead of signing the user out.
        stale = retired.post("/time/stop", data={"_csrf_token": browser["csrftoken"]})
        assert stale.status_code == 403
        page = retired.get("/time")
        assert page.status_code == 200 and 'data-running="true"' in page.text
        fresh = retired.cookies["csrftoken"]
        assert fresh != browser["csrftoken"]
        assert kid(retired.cookies[ACCESS_COOKIE]) == NEW.kid
        assert retired.cookies[REFRESH_COOKIE] != browser[REFRESH_COOKIE]
        stopped = retired.post("/time/stop", data={"_csrf_token": fresh})
        assert stopped.status_code == 200 and 'data-running="false"' in stopped.text


def _tenant_id(client: TestClient[Any], slug: str) -> str:
    async def find() -> str:
        async with stint(client).uow() as work:
            return str((await work.directory.tenant_by_slug(slug)).id)

    return str(run(client, find))


def _store_sealed(client: TestClient[Any], tenant_id: str, sealed: str) -> None:
    async def store() -> None:
        await DevOpsConnectionRow.insert(DevOpsConnectionRow(
            tenant_id=tenant_id, kind="azure_devops", organization_url="https://dev.azure.com/acme",
            project=None, sealed_pat=sealed, updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        ))

    run(client, store)


def _sealed(client: TestClient[Any], tenant_id: str) -> str:
    async def read() -> str:
        row = await DevOpsConnectionRow.select().where(DevOpsConnectionRow.tenant_id == tenant_id).first()
        return str(row["sealed_pat"])

    return str(run(client, read))


def test_sealed_devops_tokens_stay_readable_and_are_resealed_before_the_old_key_goes(
    database_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    with served(database_url, tmp_path, clock, OLD) as before:
        for slug in ("acme", "globex", "initech"):
            signup(before, slug)
        acme, globex, initech = (_tenant_id(before, slug) for slug in ("acme", "globex", "initech"))
        _store_sealed(before, acme, stint(before).devops.sealer.seal(acme, "acme-pat"))
        # Sealed before keys had names, with the key there was.
        v1 = "v1:" + PatSealer(SigningKeys((OLD,))).seal(globex, "globex-pat").split(":", 2)[2]
        _store_sealed(before, globex, v1)
        elsewhere = PatSealer(SigningKeys.single("x" * 40, "elsewhere"))
        _store_sealed(before, initech, elsewhere.seal(initech, "another installation's"))

    with served(database_url, tmp_path, clock, NEW, OLD) as rotated:
        sealer = stint(rotated).devops.sealer
        assert sealer.unseal(acme, _sealed(rotated, acme)) == "acme-pat"
        assert sealer.unseal(globex, _sealed(rotated, globex)) == "globex-pat"
        done = run(rotated, stint(rotated).devops.reseal)
        assert (done.resealed, done.current, done.unreadable) == (2, 0, (initech,))
        assert _sealed(rotated, acme).startswith(f"v2:{NEW.kid}:")
        again = run(rotated, stint(rotated).devops.reseal)
        assert (again.resealed, again.current) == (0, 2)

    with served(database_url, tmp_path, clock, NEW) as retired:
        sealer = stint(retired).devops.sealer
        assert sealer.unseal(acme, _sealed(retired, acme)) == "acme-pat"
        assert sealer.unseal(globex, _sealed(retired, globex)) == "globex-pat"
        with pytest.raises(UnreadableToken):
            sealer.unseal(initech, _sealed(retired, initech))

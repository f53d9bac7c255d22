"""m0031: OAuth clients, codes and app grants on both engines; sign-ins made before it are
still sign-ins (full access, no app)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.identity.oauth import AuthorizationCode, ClientKind, DeviceCode, OAuthClient
from core.identity.ports import RefreshTokenRecord
from core.identity.scopes import Scope
from core.services.tokens import hash_token
from plugins.storage.migrations import upgrade
from plugins.storage.oauth_repo import PiccoloOAuthStore
from plugins.storage.token_repo import PiccoloTokenRepository
from tests.integration.test_token_scopes_storage import ENGINES, NOW, _tenant_and_user, empty_engine

__all__ = ["empty_engine"]  # the fixture, shared with the m0028 tests


@ENGINES
async def test_a_sign_in_made_before_apps_existed_stays_a_full_access_sign_in(empty_engine: Any) -> None:
    from plugins.storage.tables import RefreshToken

    # Every migration before this one (its neighbours' numbers included, once merged).
    await upgrade(empty_engine, target="0030")
    await _tenant_and_user()
    # The row as the table held it before 0031: no client_id, scopes or address to name.
    await RefreshToken.raw(
        "INSERT INTO refresh_token (id, tenant_id, user_id, family_id, token_hash, issued_at, expires_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {})",
        "rt1", "ten1", "usr1", "fam1", hash_token("old"), NOW, NOW + timedelta(days=30),
    )
    assert "0031" in await upgrade(empty_engine)
    tokens = PiccoloTokenRepository(empty_engine, "ten1")
    old = await tokens.refresh_by_hash(hash_token("old"))
    assert old is not None and old.client_id is None and old.scopes is None
    assert await tokens.app_grants("usr1") == []


@ENGINES
async def test_clients_codes_and_grants_read_back_as_written(empty_engine: Any) -> None:
    await upgrade(empty_engine, target="0030")
    await _tenant_and_user()
    await upgrade(empty_engine)
    store = PiccoloOAuthStore(empty_engine)
    app = OAuthClient(
        id="app1", name="Buddy", kind=ClientKind.CONFIDENTIAL, redirect_uris=("https://a.example/cb",
                                                                              "http://127.0.0.1:9/cb"),
        allowed_scopes=frozenset({Scope.TRACKING, Scope.WORKLOGS_READ}), tenant_id="ten1",
        secret_hash=hash_token("s"), device_grant=False, disabled=False, created_at=NOW,
        created_by="user:usr1",
    )
    await store.add_client(app)
    assert await store.client("app1") == app
    assert await store.tenant_clients("ten1") == [app] and await store.tenant_clients("other") == []
    assert not await store.set_client_disabled("other", "app1", True)
    assert await store.set_client_disabled("ten1", "app1", True)

    code = AuthorizationCode(code_hash=hash_token("c"), client_id="app1", tenant_id="ten1", user_id="usr1",
                             redirect_uri="https://a.example/cb", code_challenge="x" * 43,
                             scopes=frozenset({Scope.TRACKING}), expires_at=NOW + timedelta(seconds=60))
    await store.add_code(code)
    assert await store.take_code(hash_token("c"), NOW) == code  # unused until this call
    again = await store.take_code(hash_token("c"), NOW)
    assert again is not None and again.used_at == NOW

    device = DeviceCode(device_code_hash=hash_token("d"), user_code="BCDF-GHJK", client_id="app1",
                        scopes=frozenset({Scope.TRACKING}), expires_at=NOW + timedelta(minutes=10))
    await store.add_device(device)
    assert await store.decide_device("BCDF-GHJK", "ten1", "usr1", True, NOW)
    assert not await store.decide_device("BCDF-GHJK", "ten1", "usr1", False, NOW)  # answered once
    assert await store.take_device(hash_token("d"), NOW) and not await store.take_device(hash_token("d"), NOW)

    tokens = PiccoloTokenRepository(empty_engine, "ten1")
    await tokens.add_refresh(RefreshTokenRecord(
        id="r1", tenant_id="ten1", user_id="usr1", family_id="f1", token_hash=hash_token("r1"), issued_at=NOW,
        expires_at=NOW + timedelta(days=30), client_id="app1", scopes=frozenset({Scope.TRACKING}),
        address="203.0.113.9",
    ))
    [grant] = await tokens.app_grants("usr1")
    assert (grant.client_id, grant.scopes, grant.address) == ("app1", {Scope.TRACKING}, "203.0.113.9")
    assert await tokens.revoke_client("app1", NOW) == 1
    assert await tokens.app_grants("usr1") == []

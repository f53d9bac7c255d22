"""m0028: scopes on personal access tokens, on both engines; older tokens keep full access."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.identity.ports import PersonalTokenRecord
from core.identity.scopes import Scope
from core.services.tokens import hash_token
from plugins.storage import engine as storage_engine
from plugins.storage.migrations import upgrade
from plugins.storage.token_repo import PiccoloTokenRepository

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def empty_engine(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Any]:
    """A brand-new database of the parametrised kind with no migration applied."""
    from tests.support import databases

    if request.param == "sqlite":
        engine = await storage_engine.open_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        name = None
    else:
        name, url = databases.create_empty()
        engine = await storage_engine.open_engine(url, pool_size=2)
    storage_engine.bind(engine)
    yield engine
    await storage_engine.close(engine)
    if name:
        databases.drop(name)


async def _tenant_and_user() -> None:
    """The rows a token refers to, with the columns the first schema has (raw: later
    migrations add columns the Table classes name)."""
    from plugins.storage.tables import Tenant

    statements = [
        ("INSERT INTO enterprise (id, name, created_at) VALUES ({}, {}, {})", ("ent1", "Acme", NOW)),
        ("INSERT INTO subscription (id, enterprise_id, plan_id, status, created_at, updated_at) "
         "VALUES ({}, {}, {}, {}, {}, {})", ("sub1", "ent1", "team", "active", NOW, NOW)),
        ("INSERT INTO tenant (id, slug, name, deployment, enterprise_id, subscription_id, created_at) "
         "VALUES ({}, {}, {}, {}, {}, {}, {})", ("ten1", "acme", "Acme", "cloud", "ent1", "sub1", NOW)),
        ("INSERT INTO person (id, email, name, created_at) VALUES ({}, {}, {}, {})",
         ("per1", "ann@acme.test", "Ann", NOW)),
        ("INSERT INTO tenant_user (id, tenant_id, person_id, created_at) VALUES ({}, {}, {}, {})",
         ("usr1", "ten1", "per1", NOW)),
    ]
    for sql, values in statements:
        await Tenant.raw(sql, *values)


ENGINES = pytest.mark.parametrize(
    "empty_engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@ENGINES
async def test_a_token_made_before_scopes_reads_back_unrestricted_after_the_upgrade(
    empty_engine: Any,
) -> None:
    from plugins.storage.tables import PersonalAccessToken

    # Every migration before this one (its neighbours' numbers included, once merged).
    await upgrade(empty_engine, target="0027")
    await _tenant_and_user()
    # The row as the table held it before 0028: no scopes column to name.
    await PersonalAccessToken.raw(
        "INSERT INTO personal_access_token "
        "(id, tenant_id, user_id, name, token_hash, created_at, expires_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {})",
        "pat1", "ten1", "usr1", "ci", hash_token("old-secret"), NOW, NOW + timedelta(days=30),
    )
    assert "0028" in await upgrade(empty_engine)
    tokens = PiccoloTokenRepository(empty_engine, "ten1")
    old = await tokens.pat_by_hash(hash_token("old-secret"))
    assert old is not None and old.name == "ci" and old.scopes is None


@ENGINES
async def test_a_scoped_token_reads_back_with_exactly_its_scopes(empty_engine: Any) -> None:
    await upgrade(empty_engine, target="0027")
    await _tenant_and_user()
    await upgrade(empty_engine)
    tokens = PiccoloTokenRepository(empty_engine, "ten1")
    for id, scopes in (("a", frozenset({Scope.REPORTING_READ})), ("b", frozenset(Scope)), ("c", None)):
        await tokens.add_pat(PersonalTokenRecord(
            id=id, tenant_id="ten1", user_id="usr1", name=id, token_hash=hash_token(id), created_at=NOW,
            expires_at=NOW + timedelta(days=1), scopes=scopes,
        ))
    found = {r.id: r.scopes for r in await tokens.pats("usr1")}
    assert found == {"a": {Scope.REPORTING_READ}, "b": frozenset(Scope), "c": None}

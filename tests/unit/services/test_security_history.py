"""Reading the security history, on the fakes: a tenant's trail newest first and only its
own, filtered by action family or by a user (what they did and what was done to them),
paged by an opaque cursor; the operators' view of every tenant, or of the installation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import NotFound, ValidationFailed
from core.services.security_history import installation_audit, tenant_audit
from core.tenancy import Tenant
from tests.fakes import FakeUnitOfWorkFactory
from tests.fakes.licensing import audit_row

from .conftest import NOW, Seed


def _row(seed: Seed, tenant: Tenant | None, actor: str, action: str, subject: str, minutes: int) -> None:
    at = NOW - timedelta(minutes=minutes)
    seed.store.audit.append(audit_row(tenant.id if tenant else None, actor, action, subject, {}, at))


@pytest.fixture
def acme(seed: Seed) -> Tenant:
    return seed.tenant("acme")


@pytest.fixture
def globex(seed: Seed) -> Tenant:
    return seed.tenant("globex")


async def test_lists_the_tenants_own_rows_newest_first(
    uow: FakeUnitOfWorkFactory, seed: Seed, acme: Tenant, globex: Tenant
) -> None:
    _row(seed, acme, "user:a", "signin", "ann@acme.test", 30)
    _row(seed, globex, "user:g", "signin", "gus@globex.test", 20)
    _row(seed, acme, "user:a", "user.role_changed", "bob@acme.test", 10)
    rows, cursor = await tenant_audit(uow, tenant=acme)
    assert [r.action for r in rows] == ["user.role_changed", "signin"]
    assert cursor is None


async def test_an_action_keeps_itself_and_its_family_only(
    uow: FakeUnitOfWorkFactory, seed: Seed, acme: Tenant
) -> None:
    _row(seed, acme, "user:a", "signin", "ann@acme.test", 30)
    _row(seed, acme, "user:a", "signin.failed", "ann@acme.test", 20)
    _row(seed, acme, "user:a", "signing.other", "ann@acme.test", 10)
    rows, _ = await tenant_audit(uow, tenant=acme, action="signin")
    assert [r.action for r in rows] == ["signin.failed", "signin"]


async def test_a_user_filter_keeps_what_they_did_and_what_was_done_to_them(
    uow: FakeUnitOfWorkFactory, seed: Seed, acme: Tenant
) -> None:
    ann = seed.user(acme, "ann@acme.test")
    _row(seed, acme, f"user:{ann.id}", "signin", "ann@acme.test", 30)
    _row(seed, acme, "user:boss", "user.role_changed", "ann@acme.test", 20)
    _row(seed, acme, "user:boss", "user.role_changed", "bob@acme.test", 10)
    rows, _ = await tenant_audit(uow, tenant=acme, user_id=ann.id)
    assert [(r.actor, r.subject) for r in rows] == [
        ("user:boss", "ann@acme.test"), (f"user:{ann.id}", "ann@acme.test"),
    ]


async def test_refuses_a_user_of_another_tenant_as_not_found(
    uow: FakeUnitOfWorkFactory, seed: Seed, acme: Tenant, globex: Tenant
) -> None:
    gus = seed.user(globex, "gus@globex.test")
    with pytest.raises(NotFound):
        await tenant_audit(uow, tenant=acme, user_id=gus.id)


async def test_pages_with_a_cursor_until_the_last_page_has_none(
    uow: FakeUnitOfWorkFactory, seed: Seed, acme: Tenant
) -> None:
    for minutes in (50, 40, 30, 20, 10):
        _row(seed, acme, "user:a", f"step{minutes}", "ann@acme.test", minutes)
    first, cursor = await tenant_audit(uow, tenant=acme, limit=2)
    assert [r.action for r in first] == ["step10", "step20"] and cursor
    second, cursor = await tenant_audit(uow, tenant=acme, limit=2, cursor=cursor)
    assert [r.action for r in second] == ["step30", "step40"] and cursor
    last, cursor = await tenant_audit(uow, tenant=acme, limit=2, cursor=cursor)
    assert [r.action for r in last] == ["step50"] and cursor is None


async def test_a_page_exactly_full_has_no_next_cursor(
    uow: FakeUnitOfWorkFactory, seed: Seed, acme: Tenant
) -> None:
    _row(seed, acme, "user:a", "signin", "ann@acme.test", 20)
    _row(seed, acme, "user:a", "signout", "ann@acme.test", 10)
    rows, cursor = await tenant_audit(uow, tenant=acme, limit=2)
    assert len(rows) == 2 and cursor is None


async def test_refuses_a_cursor_it_did_not_give(uow: FakeUnitOfWorkFactory, acme: Tenant) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await tenant_audit(uow, tenant=acme, cursor="not-a-cursor!")
    assert refused.value.field == "cursor"


async def test_operators_read_every_tenants_rows_and_the_installations_with_each_tenants_slug(
    uow: FakeUnitOfWorkFactory, seed: Seed, acme: Tenant, globex: Tenant
) -> None:
    _row(seed, acme, "user:a", "signin", "ann@acme.test", 30)
    _row(seed, globex, "user:g", "signin", "gus@globex.test", 20)
    _row(seed, None, "operator:o", "operator.signin", "op@vendor.test", 10)
    (rows, _), slugs = await installation_audit(uow)
    assert [r.tenant_id for r in rows] == [None, globex.id, acme.id]
    assert slugs == {acme.id: "acme", globex.id: "globex"}


async def test_operators_narrow_to_one_tenant_by_slug_or_to_the_installation_by_a_dash(
    uow: FakeUnitOfWorkFactory, seed: Seed, acme: Tenant, globex: Tenant
) -> None:
    _row(seed, acme, "user:a", "signin", "ann@acme.test", 30)
    _row(seed, globex, "user:g", "signin", "gus@globex.test", 20)
    _row(seed, None, "operator:o", "operator.signin", "op@vendor.test", 10)
    (one, _), _ = await installation_audit(uow, tenant_slug=" ACME ")
    assert [r.tenant_id for r in one] == [acme.id]
    (installation, _), slugs = await installation_audit(uow, tenant_slug="-")
    assert [r.action for r in installation] == ["operator.signin"] and slugs == {}


async def test_operators_filter_by_the_kind_of_actor(
    uow: FakeUnitOfWorkFactory, seed: Seed, acme: Tenant
) -> None:
    _row(seed, acme, "user:a", "signin", "ann@acme.test", 30)
    _row(seed, None, "operator:o", "operator.signin", "op@vendor.test", 10)
    (rows, _), _ = await installation_audit(uow, actor_kind="user")
    assert [r.actor for r in rows] == ["user:a"]


async def test_refuses_an_unknown_tenant_slug_as_not_found(uow: FakeUnitOfWorkFactory, acme: Tenant) -> None:
    with pytest.raises(NotFound):
        await installation_audit(uow, tenant_slug="nobody")

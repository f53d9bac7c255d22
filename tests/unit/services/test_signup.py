"""Signup: a tenant, its trial and its first collection admin (core.services.signup)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.clock import FixedClock
from core.errors import TenantExists, ValidationFailed
from core.licensing.subscription import SubscriptionStatus
from core.services.signup import SignupResult, signup
from core.tenancy import Deployment
from tests.fakes import FakePasswordHasher, FakeUnitOfWorkFactory

from .conftest import PASSWORD, TODAY, Seed


async def _signup(uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock,
                  **overrides: Any) -> SignupResult:
    values: dict[str, Any] = {
        "slug": "acme", "name": "Acme Ltd", "deployment": "cloud", "admin_email": "ann@acme.test",
        "admin_password": PASSWORD, "admin_name": "Ann", "trial_days": 28,
    }
    return await signup(uow, hasher, clock, **(values | overrides))


async def test_creates_a_trialing_tenant_whose_admin_can_do_everything(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    result = await _signup(uow, hasher, clock, slug=" ACME ", deployment="onprem")
    tenant, admin = result.tenant, result.admin
    assert (tenant.slug, tenant.name, tenant.deployment) == ("acme", "Acme Ltd", Deployment.ONPREM)
    assert seed.store.tenants[tenant.id] == tenant
    assert seed.subscription(tenant) == result.subscription
    assert result.subscription.status is SubscriptionStatus.TRIALING
    assert result.subscription.trial_ends_on == TODAY + timedelta(days=28)
    assert (admin.role, admin.collection_admin, admin.approval_manager) == ("administrator", True, True)
    assert seed.store.users[tenant.id][admin.id].user == admin
    assert uow.commits == 1


async def test_runs_the_trial_for_the_days_asked(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock
) -> None:
    result = await _signup(uow, hasher, clock, trial_days=7)
    assert result.subscription.trial_ends_on == TODAY + timedelta(days=7)


async def test_stores_only_a_hash_of_the_admins_password(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    result = await _signup(uow, hasher, clock)
    stored = seed.store.users[result.tenant.id][result.admin.id].password_hash
    assert stored is not None and stored != PASSWORD and hasher.verify(stored, PASSWORD)


async def test_gives_a_new_tenant_its_own_enterprise_and_subscription(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    result = await _signup(uow, hasher, clock)
    stored = seed.stored(result.tenant)
    assert stored.enterprise_id == result.tenant.enterprise_id
    assert seed.store.enterprises[result.tenant.enterprise_id].name == "Acme Ltd"
    assert stored.scope == "tenant"


async def test_adds_a_tenant_to_the_enterprise_named(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    first = seed.tenant("first")
    result = await _signup(uow, hasher, clock, enterprise_id=first.enterprise_id)
    assert result.tenant.enterprise_id == first.enterprise_id
    assert len(seed.store.enterprises) == 1
    assert result.tenant.subscription_id != first.subscription_id


async def test_audits_the_signup_as_the_new_admin(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    result = await _signup(uow, hasher, clock)
    [row] = seed.audit()
    assert (row.tenant_id, row.actor, row.action, row.subject, row.detail) == (
        result.tenant.id, f"user:{result.admin.id}", "tenant.signed_up", "acme", {"deployment": "cloud"}
    )


async def test_reuses_the_person_an_email_already_belongs_to(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    person = seed.person("ann@acme.test")
    result = await _signup(uow, hasher, clock, admin_email="ANN@acme.test", admin_name="Someone Else")
    assert result.admin.person_id == person.id
    assert result.admin.name == person.name
    assert len(seed.store.persons) == 1


async def test_names_a_nameless_admin_after_their_email(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock
) -> None:
    result = await _signup(uow, hasher, clock, admin_name="  ")
    assert result.admin.name == "ann@acme.test"


async def test_refuses_a_taken_tenant_name_and_changes_nothing(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    seed.tenant("acme")
    before = (len(seed.store.tenants), len(seed.store.enterprises), len(seed.store.subscriptions))
    with pytest.raises(TenantExists) as refused:
        await _signup(uow, hasher, clock, admin_email="new@else.test")
    assert refused.value.extra == {"field": "tenant"}
    assert (len(seed.store.tenants), len(seed.store.enterprises), len(seed.store.subscriptions)) == before
    assert seed.store.persons == {} and uow.commits == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slug": "a"}, "tenant"),
        ({"slug": "no spaces"}, "tenant"),
        ({"deployment": "moon"}, "deployment"),
        ({"admin_email": "not-an-email"}, "admin.email"),
        ({"admin_password": "short"}, "admin.password"),
        ({"name": "   "}, "name"),
    ],
    ids=["short slug", "slug with spaces", "unknown deployment", "bad email", "short password", "no name"],
)
async def test_refuses_bad_input_naming_the_field_before_opening_a_transaction(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock,
    overrides: dict[str, Any], field: str,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await _signup(uow, hasher, clock, **overrides)
    assert refused.value.field == field
    assert uow.units == []


async def test_signs_up_a_nameless_admin_whose_valid_email_is_longer_than_200_characters_or_refuses_it(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    email = "a" * 240 + "@acme.test"
    try:
        result = await _signup(uow, hasher, clock, admin_email=email, admin_name="")
    except ValidationFailed:
        return
    assert seed.store.persons[result.admin.person_id].email == email

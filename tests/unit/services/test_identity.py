"""Sign-in for tenant users and operators, and operator accounts (core.services.identity)."""

from __future__ import annotations

import pytest

from core.clock import FixedClock
from core.errors import Conflict, InvalidCredentials, ValidationFailed
from core.services.identity import (
    authenticate_operator,
    authenticate_user,
    check_password,
    create_operator,
)
from tests.fakes import FakePasswordHasher, FakeUnitOfWorkFactory

from .conftest import NOW, PASSWORD, Seed


def test_refuses_a_password_under_eight_characters_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_password("seven77", field="admin.password")
    assert refused.value.field == "admin.password"


def test_refuses_a_password_over_1024_characters() -> None:
    with pytest.raises(ValidationFailed):
        check_password("x" * 1025)


def test_accepts_a_password_of_eight_to_1024_characters() -> None:
    assert check_password("x" * 8) == "x" * 8
    assert check_password("x" * 1024) == "x" * 1024


async def test_signs_in_a_user_whatever_the_case_and_spaces_of_the_slug_and_email(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme")
    user = seed.user(tenant, "ann@acme.test")
    found = await authenticate_user(
        uow, hasher, clock, tenant_slug=" ACME ", email=" Ann@Acme.Test", password=PASSWORD
    )
    assert found == (tenant, user)


async def test_records_a_sign_in_under_the_tenant_with_the_client_address(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme")
    user = seed.user(tenant, "ann@acme.test")
    await authenticate_user(
        uow, hasher, clock, tenant_slug="acme", email="ann@acme.test", password=PASSWORD,
        address="203.0.113.7",
    )
    [row] = uow.store.audit
    assert (row.tenant_id, row.actor, row.action, row.subject, row.address) == (
        tenant.id, f"user:{user.id}", "signin", "ann@acme.test", "203.0.113.7"
    )
    assert row.at == clock.now()


@pytest.mark.parametrize(
    ("email", "password", "actor", "reason"),
    [("ann@acme.test", "wrong password", "user", "password"),
     ("bob@acme.test", PASSWORD, "unknown", "unknown_account")],
    ids=["wrong password", "unknown email"],
)
async def test_records_a_failed_sign_in_under_the_tenant_before_refusing(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed,
    email: str, password: str, actor: str, reason: str,
) -> None:
    tenant = seed.tenant("acme")
    seed.user(tenant, "ann@acme.test")
    with pytest.raises(InvalidCredentials):
        await authenticate_user(
            uow, hasher, clock, tenant_slug="acme", email=email, password=password, address="198.51.100.1"
        )
    [row] = uow.store.audit
    assert (row.tenant_id, row.action, row.subject, row.address) == (
        tenant.id, "signin.failed", email, "198.51.100.1"
    )
    assert row.actor.startswith(actor) and row.detail == {"reason": reason}


async def test_records_a_sign_in_to_an_unknown_tenant_installation_wide(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    with pytest.raises(InvalidCredentials):
        await authenticate_user(uow, hasher, clock, tenant_slug="Nope", email="a@b.test", password="x" * 8)
    [row] = uow.store.audit
    assert (row.tenant_id, row.action, row.detail) == (
        None, "signin.failed", {"reason": "unknown_tenant", "tenant": "nope"}
    )


@pytest.mark.parametrize(
    ("slug", "email", "password"),
    [
        ("acme", "ann@acme.test", "wrong password"),
        ("nope", "ann@acme.test", PASSWORD),
        ("acme", "bob@acme.test", PASSWORD),
        ("acme", "not an email", PASSWORD),
    ],
    ids=["wrong password", "unknown tenant", "unknown email", "malformed email"],
)
async def test_refuses_every_bad_sign_in_with_one_indistinguishable_message(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed,
    slug: str, email: str, password: str,
) -> None:
    seed.user(seed.tenant("acme"), "ann@acme.test")
    with pytest.raises(InvalidCredentials) as refused:
        await authenticate_user(uow, hasher, clock, tenant_slug=slug, email=email, password=password)
    assert refused.value.detail == "The tenant, e-mail or password is not right."


@pytest.mark.parametrize(
    ("slug", "email"),
    [("nope", "ann@acme.test"), ("acme", "bob@acme.test"), ("acme", "not an email")],
    ids=["unknown tenant", "unknown email", "malformed email"],
)
async def test_spends_a_verifications_time_on_accounts_that_do_not_exist(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed,
    slug: str, email: str,
) -> None:
    seed.user(seed.tenant("acme"), "ann@acme.test")
    with pytest.raises(InvalidCredentials):
        await authenticate_user(uow, hasher, clock, tenant_slug=slug, email=email, password=PASSWORD)
    assert hasher.burned == 1


async def test_refuses_a_user_who_has_no_password_and_burns_the_attempt(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    seed.user(seed.tenant("acme"), "ann@acme.test", password=None)
    with pytest.raises(InvalidCredentials):
        await authenticate_user(uow, hasher, clock, tenant_slug="acme", email="ann@acme.test", password="")
    assert hasher.burned == 1


async def test_creates_an_operator_with_a_hashed_password_and_audits_it(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    operator = await create_operator(uow, hasher, clock, email=" Olga@Vendor.Test ", password=PASSWORD)
    stored = seed.store.operators[operator.id]
    assert (operator.email, operator.name) == ("olga@vendor.test", "olga")
    assert hasher.verify(stored.password_hash, PASSWORD) and stored.password_hash != PASSWORD
    [row] = seed.audit("operator.created")
    assert (row.tenant_id, row.actor, row.subject, row.at) == (
        None, "cli:olga@vendor.test", "olga@vendor.test", NOW
    )


async def test_refuses_a_second_operator_with_the_same_email_and_stores_nothing(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    seed.operator("olga@vendor.test")
    with pytest.raises(Conflict):
        await create_operator(uow, hasher, clock, email="OLGA@vendor.test", password=PASSWORD)
    assert len(seed.store.operators) == 1
    assert seed.actions() == []
    assert uow.commits == 0


async def test_refuses_an_operator_with_a_short_password_before_opening_a_transaction(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock
) -> None:
    with pytest.raises(ValidationFailed):
        await create_operator(uow, hasher, clock, email="olga@vendor.test", password="short")
    assert uow.units == []


async def test_signs_in_an_operator_by_a_case_insensitive_email(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    operator = seed.operator("olga@vendor.test")
    found = await authenticate_operator(uow, hasher, clock=clock, email="Olga@Vendor.test", password=PASSWORD)
    assert found == operator


async def test_records_operator_sign_ins_and_failures_installation_wide_with_the_address(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    operator = seed.operator("olga@vendor.test")
    await authenticate_operator(
        uow, hasher, clock=clock, email="olga@vendor.test", password=PASSWORD, address="192.0.2.5"
    )
    with pytest.raises(InvalidCredentials):
        await authenticate_operator(
            uow, hasher, clock=clock, email="olga@vendor.test", password="wrong one", address="192.0.2.6"
        )
    rows = [(r.tenant_id, r.actor, r.action, r.address) for r in uow.store.audit]
    assert rows == [
        (None, f"operator:{operator.id}", "operator.signin", "192.0.2.5"),
        (None, f"operator:{operator.id}", "operator.signin.failed", "192.0.2.6"),
    ]


async def test_refuses_an_operator_with_a_wrong_password_without_burning(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed
) -> None:
    seed.operator("olga@vendor.test")
    with pytest.raises(InvalidCredentials):
        await authenticate_operator(
            uow, hasher, clock=clock, email="olga@vendor.test", password="not the one"
        )
    assert hasher.burned == 0


@pytest.mark.parametrize("email", ["nobody@vendor.test", "no email at all"])
async def test_refuses_an_unknown_or_malformed_operator_email_spending_a_verification(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, seed: Seed, email: str
) -> None:
    seed.operator("olga@vendor.test")
    with pytest.raises(InvalidCredentials) as refused:
        await authenticate_operator(uow, hasher, clock=clock, email=email, password=PASSWORD)
    assert refused.value.detail == "The e-mail or password is not right."
    assert hasher.burned == 1

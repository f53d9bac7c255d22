"""Second factors for tenant users and the tenant's requirement (core.services.second_factor,
core.services.security_settings, the code step of core.services.identity), on the fakes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.clock import FixedClock
from core.errors import Conflict, InvalidCredentials, NotFound
from core.services.identity import authenticate_user
from core.services.second_factor import (
    CodeNeeded,
    FactorRequiredByTenant,
    Holder,
    InvalidCode,
    confirm_enrolment,
    disable_second_factor,
    reset_user_second_factor,
    start_enrolment,
)
from core.services.security_settings import EnrolFirst, require_second_factor
from core.tenancy import Tenant, User
from tests.fakes import FakeOneTimeCodes, FakePasswordHasher, FakeUnitOfWorkFactory

from .conftest import PASSWORD, Seed


@pytest.fixture
def codes() -> FakeOneTimeCodes:
    return FakeOneTimeCodes()


async def _user(uow: FakeUnitOfWorkFactory, user: User) -> User:
    async with uow() as work:
        found = await work.tenant(user.tenant_id).users().get(user.id)
    assert found is not None
    return found


async def _enrol(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, user: User
) -> tuple[str, list[str]]:
    enrolment = await start_enrolment(uow, codes, Holder.of(user))
    recovery = await confirm_enrolment(
        uow, codes, clock, Holder.of(user), code=codes.code_at(enrolment.secret, clock.now())
    )
    return enrolment.secret, recovery


async def _sign_in(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, clock: FixedClock, codes: FakeOneTimeCodes,
    code: str = "",
) -> tuple[Tenant, User]:
    return await authenticate_user(
        uow, hasher, clock, tenant_slug="acme", email="ann@acme.test", password=PASSWORD,
        codes=codes, code=code, address="198.51.100.4",
    )


async def test_a_user_has_no_second_factor_until_a_code_confirms_the_secret(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, seed: Seed
) -> None:
    user = seed.user(seed.tenant("acme"))
    enrolment = await start_enrolment(uow, codes, Holder.of(user))
    assert enrolment.uri.startswith("otpauth://totp/Stint:ann%40acme.test?secret=" + enrolment.secret)
    assert not (await _user(uow, user)).second_factor

    with pytest.raises(InvalidCode):
        await confirm_enrolment(uow, codes, clock, Holder.of(user), code="000000")
    recovery = await confirm_enrolment(
        uow, codes, clock, Holder.of(user), code=codes.code_at(enrolment.secret, clock.now())
    )

    assert len(set(recovery)) == 10
    assert (await _user(uow, user)).second_factor
    assert [r.action for r in uow.store.audit] == ["second_factor.enrolled"]
    assert uow.store.audit[0].tenant_id == user.tenant_id


async def test_refuses_to_start_again_once_a_factor_is_in_use(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, seed: Seed
) -> None:
    user = seed.user(seed.tenant("acme"))
    await _enrol(uow, codes, clock, user)
    with pytest.raises(Conflict):
        await start_enrolment(uow, codes, Holder.of(user))


async def test_sign_in_without_the_code_says_a_code_is_needed_and_records_no_failure(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, codes: FakeOneTimeCodes, clock: FixedClock,
    seed: Seed,
) -> None:
    user = seed.user(seed.tenant("acme"))
    await _enrol(uow, codes, clock, user)
    before = len(uow.store.audit)
    with pytest.raises(CodeNeeded):
        await _sign_in(uow, hasher, clock, codes)
    assert len(uow.store.audit) == before


async def test_a_wrong_code_is_a_failed_sign_in_with_the_reason_code(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, codes: FakeOneTimeCodes, clock: FixedClock,
    seed: Seed,
) -> None:
    user = seed.user(seed.tenant("acme"))
    secret, _ = await _enrol(uow, codes, clock, user)
    wrong = "123456" if codes.code_at(secret, clock.now()) != "123456" else "654321"
    with pytest.raises(InvalidCredentials) as refused:
        await _sign_in(uow, hasher, clock, codes, wrong)
    assert not isinstance(refused.value, CodeNeeded)
    last = uow.store.audit[-1]
    assert (last.action, last.detail, last.address) == ("signin.failed", {"reason": "code"}, "198.51.100.4")


async def test_the_current_code_signs_in_once_and_is_recorded_as_totp(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, codes: FakeOneTimeCodes, clock: FixedClock,
    seed: Seed,
) -> None:
    user = seed.user(seed.tenant("acme"))
    secret, _ = await _enrol(uow, codes, clock, user)
    clock.advance(seconds=30)
    code = codes.code_at(secret, clock.now())

    await _sign_in(uow, hasher, clock, codes, code)
    assert (uow.store.audit[-1].action, uow.store.audit[-1].detail) == ("signin", {"second_factor": "totp"})
    with pytest.raises(InvalidCredentials):
        await _sign_in(uow, hasher, clock, codes, code)


async def test_a_recovery_code_signs_in_once_whatever_its_case_and_hyphens(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, codes: FakeOneTimeCodes, clock: FixedClock,
    seed: Seed,
) -> None:
    user = seed.user(seed.tenant("acme"))
    _, recovery = await _enrol(uow, codes, clock, user)

    await _sign_in(uow, hasher, clock, codes, recovery[3].upper().replace("-", " "))
    assert uow.store.audit[-1].detail == {"second_factor": "recovery"}
    with pytest.raises(InvalidCredentials):
        await _sign_in(uow, hasher, clock, codes, recovery[3])


async def test_another_tenants_user_cannot_spend_a_recovery_code(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, seed: Seed
) -> None:
    ann = seed.user(seed.tenant("acme"))
    _, recovery = await _enrol(uow, codes, clock, ann)
    bob = seed.user(seed.tenant("globex"), "bob@globex.test")
    async with uow(write=True) as work:
        assert not await work.tenant(bob.tenant_id).second_factors().use_recovery(ann.id, "x", clock.now())
        store = work.tenant(ann.tenant_id).second_factors()
        assert await store.recovery_left(ann.id) == len(recovery)
        assert await work.tenant(bob.tenant_id).second_factors().get(ann.id) is None


async def test_switching_off_needs_a_current_code_or_the_password(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, codes: FakeOneTimeCodes, clock: FixedClock,
    seed: Seed,
) -> None:
    user = seed.user(seed.tenant("acme"))
    await _enrol(uow, codes, clock, user)
    with pytest.raises(InvalidCode):
        await disable_second_factor(uow, codes, hasher, clock, Holder.of(user), password="not it at all")

    await disable_second_factor(uow, codes, hasher, clock, Holder.of(user), password=PASSWORD)

    assert not (await _user(uow, user)).second_factor
    assert uow.store.recovery_codes == {}
    assert uow.store.audit[-1].action == "second_factor.disabled"
    with pytest.raises(NotFound):
        await disable_second_factor(uow, codes, hasher, clock, Holder.of(user), password=PASSWORD)


async def test_a_factor_the_tenant_requires_cannot_be_switched_off(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, codes: FakeOneTimeCodes, clock: FixedClock,
    seed: Seed,
) -> None:
    user = seed.user(seed.tenant("acme"))
    await _enrol(uow, codes, clock, user)
    with pytest.raises(FactorRequiredByTenant):
        await disable_second_factor(
            uow, codes, hasher, clock, Holder.of(user), password=PASSWORD, required=True
        )
    assert (await _user(uow, user)).second_factor


async def test_an_administrator_without_a_factor_cannot_require_one_of_everyone(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme")
    admin = seed.user(tenant, role="administrator")
    with pytest.raises(EnrolFirst):
        await require_second_factor(uow, clock, tenant=tenant, actor=admin, required=True)
    assert not uow.store.tenants[tenant.id].require_second_factor


async def test_an_administrator_with_a_factor_requires_it_and_the_change_is_audited(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, seed: Seed
) -> None:
    tenant = seed.tenant("acme")
    admin = seed.user(tenant, role="administrator")
    await _enrol(uow, codes, clock, admin)

    saved = await require_second_factor(uow, clock, tenant=tenant, actor=admin, required=True)

    assert saved == replace(tenant, require_second_factor=True) == uow.store.tenants[tenant.id]
    last = uow.store.audit[-1]
    assert (last.action, last.detail) == ("settings.second_factor_required", {"required": True})
    # Turning it off needs no factor (it cannot lock anyone out).
    off = await require_second_factor(uow, clock, tenant=saved, actor=admin, required=False)
    assert not off.require_second_factor


async def test_an_administrator_removes_a_users_factor_of_their_own_tenant_only(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, seed: Seed
) -> None:
    acme = seed.tenant("acme")
    ann = seed.user(acme)
    await _enrol(uow, codes, clock, ann)
    outsider = seed.user(seed.tenant("globex"), "gil@globex.test", role="administrator")
    admin = seed.user(acme, "ada@acme.test", role="administrator")

    with pytest.raises(NotFound):
        await reset_user_second_factor(uow, clock, actor=outsider, user_id=ann.id)
    assert (await _user(uow, ann)).second_factor
    await reset_user_second_factor(uow, clock, actor=admin, user_id=ann.id)

    assert not (await _user(uow, ann)).second_factor
    assert uow.store.recovery_codes == {}
    last = uow.store.audit[-1]
    assert (last.action, last.actor, last.subject) == ("second_factor.reset", f"user:{admin.id}", ann.email)

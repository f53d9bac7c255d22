"""Operators' second factor, on the fakes: enrolment shows a secret once and puts it in use
only when a code from it is confirmed; each code (its time step) and each recovery code
is good once; refusals keep nothing and audit nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import FixedClock
from core.errors import Conflict, NotFound
from core.services.second_factor import (
    RECOVERY_CODES,
    Holder,
    InvalidCode,
    check_code,
    confirm_enrolment,
    current_operator_code,
    enrol_operator_now,
    operator_secret,
    start_enrolment,
)
from core.tenancy import Operator
from tests.fakes import FakeDatabase, FakeOneTimeCodes, FakeSecondFactorStore, FakeUnitOfWorkFactory

from .conftest import NOW, Seed


@pytest.fixture
def codes() -> FakeOneTimeCodes:
    return FakeOneTimeCodes()


@pytest.fixture
def op(seed: Seed) -> Operator:
    return seed.operator("op@vendor.test")


async def _enrolled(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, op: Operator
) -> tuple[str, list[str]]:
    enrolment = await start_enrolment(uow, codes, Holder.of(op))
    recovery = await confirm_enrolment(
        uow, codes, clock, Holder.of(op), code=codes.code_at(enrolment.secret, clock.now())
    )
    return enrolment.secret, recovery


async def _check(
    store: FakeDatabase, codes: FakeOneTimeCodes, op: Operator, code: str, clock: FixedClock
) -> str | None:
    return await check_code(FakeSecondFactorStore(store), codes, op.id, code, clock.now())


async def test_starting_keeps_a_sealed_unconfirmed_secret_and_shows_it_once_as_a_uri(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, store: FakeDatabase, op: Operator
) -> None:
    enrolment = await start_enrolment(uow, codes, Holder.of(op))
    assert enrolment.uri.startswith("otpauth://totp/Stint:op%40vendor.test?secret=" + enrolment.secret)
    held = store.second_factors[op.id]
    assert held.confirmed_at is None and held.sealed_secret != enrolment.secret
    assert codes.unseal(op.id, held.sealed_secret) == enrolment.secret


async def test_an_unconfirmed_secret_proves_nothing_at_sign_in(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, store: FakeDatabase, op: Operator
) -> None:
    enrolment = await start_enrolment(uow, codes, Holder.of(op))
    assert await _check(store, codes, op, codes.code_at(enrolment.secret, NOW), clock) is None


async def test_confirming_with_the_right_code_gives_ten_recovery_codes_and_audits_it_once(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, seed: Seed, op: Operator
) -> None:
    enrolment = await start_enrolment(uow, codes, Holder.of(op))
    recovery = await confirm_enrolment(
        uow, codes, clock, Holder.of(op), code=codes.code_at(enrolment.secret, NOW), address="203.0.113.9"
    )
    assert len(recovery) == RECOVERY_CODES == len(set(recovery))
    assert seed.store.second_factors[op.id].confirmed_at == NOW
    assert all(code not in seed.store.recovery_codes[op.id] for code in recovery)  # kept as hashes
    [row] = seed.audit("operator.second_factor.enrolled")
    assert (row.tenant_id, row.actor, row.subject) == (None, f"operator:{op.id}", op.email)
    assert row.address == "203.0.113.9"


async def test_refuses_a_wrong_code_at_confirmation_and_keeps_the_secret_unconfirmed(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, seed: Seed, op: Operator
) -> None:
    enrolment = await start_enrolment(uow, codes, Holder.of(op))
    wrong = f"{(int(codes.code_at(enrolment.secret, NOW)) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidCode) as refused:
        await confirm_enrolment(uow, codes, clock, Holder.of(op), code=wrong)
    assert refused.value.code == "invalid_code" and refused.value.field == "code"
    assert seed.store.second_factors[op.id].confirmed_at is None
    assert seed.store.recovery_codes == {} and seed.actions() == []


async def test_refuses_to_confirm_before_a_secret_was_started(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, op: Operator
) -> None:
    with pytest.raises(Conflict):
        await confirm_enrolment(uow, codes, clock, Holder.of(op), code="123456")


async def test_refuses_to_start_or_confirm_again_once_a_second_factor_is_in_use(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, seed: Seed, op: Operator
) -> None:
    secret, _ = await _enrolled(uow, codes, clock, op)
    sealed = seed.store.second_factors[op.id].sealed_secret
    with pytest.raises(Conflict):
        await start_enrolment(uow, codes, Holder.of(op))
    with pytest.raises(Conflict):
        await confirm_enrolment(uow, codes, clock, Holder.of(op), code=codes.code_at(secret, NOW))
    assert seed.store.second_factors[op.id].sealed_secret == sealed
    assert len(seed.audit("operator.second_factor.enrolled")) == 1


async def test_a_code_is_accepted_once_and_the_confirmation_code_is_already_spent(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, store: FakeDatabase, op: Operator
) -> None:
    secret, _ = await _enrolled(uow, codes, clock, op)
    assert await _check(store, codes, op, codes.code_at(secret, NOW), clock) is None
    clock.advance(seconds=30)
    code = codes.code_at(secret, clock.now())
    assert await _check(store, codes, op, code, clock) == "totp"
    assert await _check(store, codes, op, code, clock) is None


async def test_a_code_one_step_old_is_accepted_and_two_steps_old_refused(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, store: FakeDatabase, op: Operator
) -> None:
    secret, _ = await _enrolled(uow, codes, clock, op)
    clock.advance(minutes=5)
    two_old = codes.code_at(secret, clock.now() - timedelta(seconds=60))
    one_old = codes.code_at(secret, clock.now() - timedelta(seconds=30))
    assert await _check(store, codes, op, two_old, clock) is None
    assert await _check(store, codes, op, one_old, clock) == "totp"


async def test_a_recovery_code_is_good_once_however_it_is_typed(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, store: FakeDatabase, op: Operator
) -> None:
    _, recovery = await _enrolled(uow, codes, clock, op)
    typed = " " + recovery[3].upper().replace("-", " ") + " "
    assert await _check(store, codes, op, typed, clock) == "recovery"
    assert await _check(store, codes, op, recovery[3], clock) is None
    assert await FakeSecondFactorStore(store).recovery_left(op.id) == RECOVERY_CODES - 1


async def test_refuses_a_recovery_code_of_another_operator(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, seed: Seed, op: Operator
) -> None:
    other = seed.operator("other@vendor.test")
    await _enrolled(uow, codes, clock, op)
    _, theirs = await _enrolled(uow, codes, clock, other)
    assert await _check(seed.store, codes, op, theirs[0], clock) is None
    assert await _check(seed.store, codes, op, "not-a-code", clock) is None


async def test_enrolling_at_once_confirms_without_a_code_and_audits_the_command_line(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, seed: Seed, op: Operator
) -> None:
    enrolment, recovery = await enrol_operator_now(uow, codes, clock, operator=op)
    assert seed.store.second_factors[op.id].confirmed_at == NOW
    assert seed.store.second_factors[op.id].last_step is None
    assert [r.actor for r in seed.audit("operator.second_factor.enrolled")] == [f"cli:{op.email}"]
    assert await _check(seed.store, codes, op, codes.code_at(enrolment.secret, NOW), clock) == "totp"
    assert await _check(seed.store, codes, op, recovery[0], clock) == "recovery"


async def test_the_current_code_is_the_one_the_app_shows_and_needs_a_confirmed_factor(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, op: Operator
) -> None:
    enrolment = await start_enrolment(uow, codes, Holder.of(op))
    with pytest.raises(NotFound):
        await current_operator_code(uow, codes, clock, email=op.email)
    code = codes.code_at(enrolment.secret, NOW)
    await confirm_enrolment(uow, codes, clock, Holder.of(op), code=code)
    assert await current_operator_code(uow, codes, clock, email=" OP@vendor.test ") == code
    with pytest.raises(NotFound):
        await current_operator_code(uow, codes, clock, email="nobody@vendor.test")


async def test_the_secret_in_use_is_shown_again_and_none_before_it_is_confirmed(
    uow: FakeUnitOfWorkFactory, codes: FakeOneTimeCodes, clock: FixedClock, op: Operator
) -> None:
    assert await operator_secret(uow, codes, operator=op) is None
    enrolment = await start_enrolment(uow, codes, Holder.of(op))
    assert await operator_secret(uow, codes, operator=op) is None
    code = codes.code_at(enrolment.secret, NOW)
    await confirm_enrolment(uow, codes, clock, Holder.of(op), code=code)
    assert await operator_secret(uow, codes, operator=op) == enrolment

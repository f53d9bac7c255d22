"""Second factor (TOTP, RFC 6238) for operators and tenant users: enrolment, recovery
codes, the check at sign-in, and switching it off (issue #15).

A secret is shown once, as an ``otpauth://`` URI and as base32 text, and is in use only
once a code from it is confirmed; confirming gives ten recovery codes, shown once and
kept as SHA-256 hashes, each good once. Codes are checked against the app's clock, and a
code (its time step) is accepted once only. Operators and users differ only in where
their factor is kept and whose trail records it (:class:`Holder`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from core.clock import Clock
from core.errors import Conflict, InvalidCredentials, NotFound, ValidationFailed
from core.identity.ports import OneTimeCodes, PasswordHasher, SecondFactorStore
from core.tenancy import Operator, User
from core.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .audit import actor_of

__all__ = [
    "ISSUER",
    "RECOVERY_CODES",
    "CodeNeeded",
    "Enrolment",
    "FactorRequiredByTenant",
    "Holder",
    "InvalidCode",
    "check_code",
    "confirm_enrolment",
    "current_operator_code",
    "disable_second_factor",
    "enrol_operator_now",
    "operator_secret",
    "reset_user_second_factor",
    "start_enrolment",
]

ISSUER = "Stint"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class CodeNeeded(InvalidCredentials):
    """The password was right; this account also needs a code from its authenticator app."""

    code = "code_needed"


class InvalidCode(ValidationFailed):
    """A code that is wrong, too old, or already used (enrolment and confirmations)."""

    code = "invalid_code"


class FactorRequiredByTenant(Conflict):
    """A user may not switch their factor off while their tenant requires one."""

    code = "second_factor_required_by_tenant"


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A secret to put into an authenticator app, shown once."""

    secret: str
    uri: str


def _recovery_hash(owner_id: str, code: str) -> str:
    # Bound to the owner so one hash cannot stand for the same code of another account.
    return hashlib.sha256(f"{owner_id}:{code}".encode()).hexdigest()


def _clean(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _new_recovery_codes() -> list[str]:
    # 16 characters of 31: about 79 bits, so an unsalted fast hash is enough.
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


async def check_code(
    store: SecondFactorStore, codes: OneTimeCodes, owner_id: str, code: str, now: datetime
) -> str | None:
    """How ``code`` proved the second factor ("totp" or "recovery"), or None; spends it."""
    record = await store.get(owner_id)
    if record is None or record.confirmed_at is None:
        return None
    cleaned = _clean(code)
    if len(cleaned) == 6 and cleaned.isdigit():
        step = codes.matching_step(codes.unseal(owner_id, record.sealed_secret), cleaned, now)
        if step is not None and await store.use_step(owner_id, step):
            return "totp"
        return None
    recovery = _recovery_hash(owner_id, _hyphenate(cleaned))
    if len(cleaned) == 16 and await store.use_recovery(owner_id, recovery, now):
        return "recovery"
    return None


def _hyphenate(cleaned: str) -> str:
    return "-".join(cleaned[i : i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True, slots=True)
class Holder:
    """Whose second factor: an operator (``tenant_id`` None) or one tenant's user."""

    id: str
    email: str
    actor: str
    tenant_id: str | None

    @classmethod
    def of(cls, who: Operator | User) -> Holder:
        tenant_id = who.tenant_id if isinstance(who, User) else None
        return cls(who.id, who.email, actor_of(who), tenant_id)

    def store(self, work: UnitOfWork) -> SecondFactorStore:
        if self.tenant_id is None:
            return work.directory.operator_second_factors()
        return work.tenant(self.tenant_id).second_factors()

    async def audit(self, work: UnitOfWork, event: str, now: datetime, address: str | None) -> None:
        # Operators' events go to the installation's trail, users' to their tenant's.
        action = f"operator.{event}" if self.tenant_id is None else event
        await work.directory.audit(self.tenant_id, self.actor, action, self.email, {}, now, address=address)


async def start_enrolment(uow: UnitOfWorkFactory, codes: OneTimeCodes, holder: Holder) -> Enrolment:
    """A new secret for ``holder``, to confirm with a code; refused once one is in use."""
    secret = codes.new_secret()
    async with uow(write=True) as work:
        store = holder.store(work)
        held = await store.get(holder.id)
        if held is not None and held.confirmed_at is not None:
            raise Conflict("a second factor is already set up for this account")
        await store.start(holder.id, codes.seal(holder.id, secret))
        await work.commit()
    return Enrolment(secret, codes.uri(secret, account=holder.email, issuer=ISSUER))


async def confirm_enrolment(
    uow: UnitOfWorkFactory, codes: OneTimeCodes, clock: Clock, holder: Holder, *, code: str,
    address: str | None = None,
) -> list[str]:
    """Put the enrolled secret in use once ``code`` matches it; the recovery codes, shown once."""
    now = clock.now()
    recovery = _new_recovery_codes()
    async with uow(write=True) as work:
        store = holder.store(work)
        held = await store.get(holder.id)
        if held is None:
            raise Conflict("start the set-up first: no secret is waiting to be confirmed")
        if held.confirmed_at is not None:
            raise Conflict("a second factor is already set up for this account")
        step = codes.matching_step(codes.unseal(holder.id, held.sealed_secret), _clean(code), now)
        if step is None:
            raise InvalidCode(
                "the code does not match; check the device's time and try the next code", field="code"
            )
        await store.confirm(holder.id, now, step, [_recovery_hash(holder.id, c) for c in recovery])
        await holder.audit(work, "second_factor.enrolled", now, address)
        await work.commit()
    return recovery


async def disable_second_factor(
    uow: UnitOfWorkFactory, codes: OneTimeCodes, hasher: PasswordHasher, clock: Clock, holder: Holder, *,
    code: str = "", password: str = "", required: bool = False, address: str | None = None,
) -> None:
    """Switch the factor off, proven with a current code (or a recovery code) or the password.

    ``required``: the tenant requires a factor of everyone, so it stays on (to move to a new
    device, sign in with a recovery code and ask an administrator to lift the requirement).
    """
    if required:
        raise FactorRequiredByTenant(
            "your tenant requires a second factor: it cannot be switched off while that is on"
        )
    if not code.strip() and not password:
        raise ValidationFailed("give a current code or your password", field="code")
    now = clock.now()
    async with uow(write=True) as work:
        store = holder.store(work)
        held = await store.get(holder.id)
        if held is None or held.confirmed_at is None:
            raise NotFound("no second factor is set up for this account")
        if code.strip():
            if await check_code(store, codes, holder.id, code, now) is None:
                raise InvalidCode("the code is not right, or was used already", field="code")
        else:
            users = work.tenant(holder.tenant_id).users() if holder.tenant_id else None
            stored = await users.password_hash(holder.id) if users else None
            if stored is None or not hasher.verify(stored, password):
                raise InvalidCode("the password is not right", field="password")
        await store.remove(holder.id)
        await holder.audit(work, "second_factor.disabled", now, address)
        await work.commit()


async def reset_user_second_factor(
    uow: UnitOfWorkFactory, clock: Clock, *, actor: User, user_id: str, address: str | None = None
) -> None:
    """An Administrator removes a user's factor (a lost device and lost recovery codes): the
    user signs in with the password again and, where the tenant requires one, sets up a new one."""
    async with uow(write=True) as work:
        user = await work.tenant(actor.tenant_id).users().get(user_id)
        if user is None:
            raise NotFound(f"no user {user_id!r}")
        store = Holder.of(user).store(work)
        if await store.get(user.id) is None:
            raise NotFound(f"{user.email} has no second factor")
        await store.remove(user.id)
        await work.directory.audit(
            actor.tenant_id, actor_of(actor), "second_factor.reset", user.email, {}, clock.now(),
            address=address,
        )
        await work.commit()


async def enrol_operator_now(
    uow: UnitOfWorkFactory, codes: OneTimeCodes, clock: Clock, *, operator: Operator
) -> tuple[Enrolment, list[str]]:
    """Enrol at once, without a code (``stint operator create``: whoever runs it holds the
    server's keys already); the secret and the recovery codes, to hand to the operator."""
    holder = Holder.of(operator)
    enrolment = await start_enrolment(uow, codes, holder)
    now = clock.now()
    recovery = _new_recovery_codes()
    async with uow(write=True) as work:
        store = holder.store(work)
        await store.confirm(operator.id, now, None, [_recovery_hash(operator.id, c) for c in recovery])
        await work.directory.audit(
            None, f"cli:{operator.email}", "operator.second_factor.enrolled", operator.email, {}, now
        )
        await work.commit()
    return enrolment, recovery



async def current_operator_code(
    uow: UnitOfWorkFactory, codes: OneTimeCodes, clock: Clock, *, email: str
) -> str:
    """The code the operator's authenticator app shows now (``stint operator code``: the demo,
    and whoever holds the server's secret key and database, who could read it anyway)."""
    async with uow() as work:
        found = await work.directory.operator_by_email(email.strip().lower())
        held = await work.directory.operator_second_factors().get(found.operator.id) if found else None
    if found is None or held is None or held.confirmed_at is None:
        raise NotFound(f"no operator {email!r} with a second factor")
    return codes.code_at(codes.unseal(found.operator.id, held.sealed_secret), clock.now())


async def operator_secret(
    uow: UnitOfWorkFactory, codes: OneTimeCodes, *, operator: Operator
) -> Enrolment | None:
    """The secret in use, to show again (the demo's printed logins); None without one."""
    async with uow() as work:
        held = await work.directory.operator_second_factors().get(operator.id)
    if held is None or held.confirmed_at is None:
        return None
    secret = codes.unseal(operator.id, held.sealed_secret)
    return Enrolment(secret, codes.uri(secret, account=operator.email, issuer=ISSUER))

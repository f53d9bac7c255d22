"""Refresh tokens and personal access tokens (core.services.tokens)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import FixedClock
from core.errors import NotFound, ValidationFailed
from core.identity.scopes import Scope
from core.services.tokens import (
    REFRESH_LIFETIME,
    InvalidToken,
    authenticate_personal_token,
    create_personal_token,
    hash_token,
    issue_refresh_token,
    list_personal_tokens,
    revoke_personal_token,
    revoke_refresh_family,
    rotate_refresh_token,
)
from core.tenancy import Tenant, User
from tests.fakes import FakeUnitOfWorkFactory

from .conftest import NOW, Seed


@pytest.fixture
def ann(seed: Seed) -> User:
    return seed.user(seed.tenant("acme"), "ann@acme.test")


async def _issue(uow: FakeUnitOfWorkFactory, clock: FixedClock, user: User) -> str:
    return (await issue_refresh_token(uow, clock, tenant_id=user.tenant_id, user_id=user.id)).refresh_token


async def _pat(uow: FakeUnitOfWorkFactory, clock: FixedClock, user: User, name: str = "ci",
               days: int = 30) -> str:
    _, token = await create_personal_token(
        uow, clock, tenant_id=user.tenant_id, user_id=user.id, name=name, expires_in_days=days
    )
    return token


# Refresh tokens -------------------------------------------------------------------------


async def test_issues_a_refresh_token_that_names_its_tenant_and_is_stored_only_as_a_hash(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    token = await _issue(uow, clock, ann)
    assert token.startswith(f"stint_rt_{ann.tenant_id}_")
    [record] = seed.store.refresh_tokens.values()
    assert record.token_hash == hash_token(token) and token not in repr(record)
    assert (record.user_id, record.expires_at, record.used_at) == (ann.id, NOW + REFRESH_LIFETIME, None)


async def test_rotates_a_refresh_token_into_a_successor_of_the_same_family(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    first = await _issue(uow, clock, ann)
    grant = await rotate_refresh_token(uow, clock, first)
    assert (grant.tenant_id, grant.user_id) == (ann.tenant_id, ann.id)
    used, successor = sorted(seed.store.refresh_tokens.values(), key=lambda r: r.used_at is None)
    assert used.used_at == NOW and successor.token_hash == hash_token(grant.refresh_token)
    assert successor.family_id == used.family_id == grant.family_id


async def test_a_successor_rotates_in_turn(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, ann: User
) -> None:
    grant = await rotate_refresh_token(uow, clock, await _issue(uow, clock, ann))
    clock.advance(days=1)
    again = await rotate_refresh_token(uow, clock, grant.refresh_token)
    assert again.family_id == grant.family_id and again.refresh_token != grant.refresh_token


async def test_a_reused_refresh_token_revokes_its_whole_family_and_is_audited(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    first = await _issue(uow, clock, ann)
    grant = await rotate_refresh_token(uow, clock, first)
    with pytest.raises(InvalidToken, match="used before"):
        await rotate_refresh_token(uow, clock, first)
    assert all(r.revoked_at == NOW for r in seed.store.refresh_tokens.values())
    [row] = seed.audit("token.refresh_reused")
    assert (row.actor, row.subject) == (f"user:{ann.id}", grant.family_id)
    with pytest.raises(InvalidToken):
        await rotate_refresh_token(uow, clock, grant.refresh_token)


async def test_a_reuse_leaves_the_users_other_sign_ins_alone(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, ann: User
) -> None:
    stolen = await _issue(uow, clock, ann)
    other = await _issue(uow, clock, ann)
    await rotate_refresh_token(uow, clock, stolen)
    with pytest.raises(InvalidToken):
        await rotate_refresh_token(uow, clock, stolen)
    assert (await rotate_refresh_token(uow, clock, other)).user_id == ann.id


async def test_refuses_an_expired_refresh_token_and_changes_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    token = await _issue(uow, clock, ann)
    clock.advance(days=30)
    with pytest.raises(InvalidToken, match="unknown, expired or revoked"):
        await rotate_refresh_token(uow, clock, token)
    [record] = seed.store.refresh_tokens.values()
    assert record.used_at is None and uow.commits == 1


async def test_refuses_a_refresh_token_signed_out_before(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, ann: User
) -> None:
    token = await _issue(uow, clock, ann)
    assert await revoke_refresh_family(uow, clock, token) is True
    with pytest.raises(InvalidToken):
        await rotate_refresh_token(uow, clock, token)


async def test_refuses_the_refresh_token_of_a_user_who_no_longer_exists(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    token = await _issue(uow, clock, ann)
    del seed.store.users[ann.tenant_id][ann.id]
    with pytest.raises(InvalidToken):
        await rotate_refresh_token(uow, clock, token)


@pytest.mark.parametrize(
    "token",
    [
        "eyJhbGciOiJIUzI1NiJ9.e30.x",
        "stint_rt_short_" + "s" * 43,
        "stint_rt_" + "a" * 32 + "_tooshort",
        "stint_rt_" + "a" * 32 + "_" + "s" * 200,
        "stint_pat_" + "a" * 32 + "_" + "s" * 43,
        "stint_rt_" + "a" * 32 + "s" * 43,
    ],
    ids=["a jwt", "short tenant id", "short secret", "too long", "a personal token", "no separator"],
)
async def test_refuses_a_refresh_token_stint_did_not_issue_without_a_transaction(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, token: str
) -> None:
    with pytest.raises(InvalidToken, match="not one Stint issued"):
        await rotate_refresh_token(uow, clock, token)
    assert uow.units == []


async def test_refuses_a_well_formed_refresh_token_nobody_issued(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, ann: User
) -> None:
    with pytest.raises(InvalidToken):
        await rotate_refresh_token(uow, clock, f"stint_rt_{ann.tenant_id}_{'s' * 43}")
    assert uow.commits == 0


async def test_sign_out_revokes_the_family_once(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    grant = await rotate_refresh_token(uow, clock, await _issue(uow, clock, ann))
    assert await revoke_refresh_family(uow, clock, grant.refresh_token) is True
    assert all(r.revoked_at == NOW for r in seed.store.refresh_tokens.values())
    assert await revoke_refresh_family(uow, clock, grant.refresh_token) is False


@pytest.mark.parametrize("token", ["garbage", "stint_rt_" + "b" * 32 + "_" + "s" * 43])
async def test_sign_out_with_a_token_nobody_issued_revokes_nothing(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, token: str
) -> None:
    assert await revoke_refresh_family(uow, clock, token) is False
    assert uow.commits == 0


# Personal access tokens --------------------------------------------------------------


async def test_creates_a_personal_token_shown_once_and_stored_as_a_hash(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    record, token = await create_personal_token(
        uow, clock, tenant_id=ann.tenant_id, user_id=ann.id, name="  ci bot  ", expires_in_days=90
    )
    assert token.startswith(f"stint_pat_{ann.tenant_id}_")
    assert seed.store.personal_tokens[record.id] == record
    assert (record.name, record.token_hash, record.expires_at) == (
        "ci bot", hash_token(token), NOW + timedelta(days=90)
    )
    [row] = seed.audit("token.created")
    # A token made without scopes has full access, and the trail says so.
    assert (row.actor, row.subject, row.detail) == (
        f"user:{ann.id}", "ci bot", {"id": record.id, "scopes": "all"}
    )


@pytest.mark.parametrize(
    ("name", "days", "field"),
    [("", 30, "name"), ("x" * 101, 30, "name"), ("ci", 0, "expires_in_days"), ("ci", 366, "expires_in_days")],
)
async def test_refuses_a_personal_token_without_a_name_or_beyond_a_year(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, ann: User, name: str, days: int, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await _pat(uow, clock, ann, name, days)
    assert refused.value.field == field
    assert uow.units == []


async def test_lists_only_the_users_live_tokens_a_page_at_a_time(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    bob = seed.user(seed.store.tenants[ann.tenant_id], "bob@acme.test")
    for name in ("a", "b", "c", "gone"):
        await _pat(uow, clock, ann, name)
    await _pat(uow, clock, bob, "bobs")
    gone = next(r for r in seed.store.personal_tokens.values() if r.name == "gone")
    await revoke_personal_token(uow, clock, tenant_id=ann.tenant_id, user_id=ann.id, token_id=gone.id)
    first = await list_personal_tokens(uow, tenant_id=ann.tenant_id, user_id=ann.id, limit=2)
    rest = await list_personal_tokens(uow, tenant_id=ann.tenant_id, user_id=ann.id, after=first[-1].id)
    listed = first + rest
    assert sorted(r.name for r in listed) == ["a", "b", "c"]
    assert [r.id for r in listed] == sorted(r.id for r in listed)


async def test_revokes_the_users_own_token_and_audits_it(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    await _pat(uow, clock, ann)
    [record] = seed.store.personal_tokens.values()
    await revoke_personal_token(uow, clock, tenant_id=ann.tenant_id, user_id=ann.id, token_id=record.id)
    assert seed.store.personal_tokens[record.id].revoked_at == NOW
    assert [(r.actor, r.subject) for r in seed.audit("token.revoked")] == [(f"user:{ann.id}", record.id)]


async def test_someone_elses_or_a_revoked_token_is_not_found(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    bob = seed.user(seed.store.tenants[ann.tenant_id], "bob@acme.test")
    await _pat(uow, clock, ann)
    [record] = seed.store.personal_tokens.values()
    with pytest.raises(NotFound):
        await revoke_personal_token(uow, clock, tenant_id=bob.tenant_id, user_id=bob.id, token_id=record.id)
    assert seed.store.personal_tokens[record.id].revoked_at is None
    await revoke_personal_token(uow, clock, tenant_id=ann.tenant_id, user_id=ann.id, token_id=record.id)
    with pytest.raises(NotFound):
        await revoke_personal_token(uow, clock, tenant_id=ann.tenant_id, user_id=ann.id, token_id=record.id)
    assert len(seed.audit("token.revoked")) == 1


async def test_authenticates_a_live_personal_token_and_records_its_use(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    token = await _pat(uow, clock, ann)
    clock.advance(minutes=5)
    record = await authenticate_personal_token(uow, clock, token)
    assert record.user_id == ann.id
    assert seed.store.personal_tokens[record.id].last_used_at == NOW + timedelta(minutes=5)


async def test_records_a_tokens_use_at_most_once_a_minute(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, ann: User
) -> None:
    token = await _pat(uow, clock, ann)
    await authenticate_personal_token(uow, clock, token)
    writes = uow.writes
    clock.advance(seconds=59)
    await authenticate_personal_token(uow, clock, token)
    assert uow.writes == writes
    clock.advance(seconds=1)
    await authenticate_personal_token(uow, clock, token)
    assert uow.writes == writes + 1


async def test_refuses_a_revoked_personal_token(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    token = await _pat(uow, clock, ann)
    [record] = seed.store.personal_tokens.values()
    await revoke_personal_token(uow, clock, tenant_id=ann.tenant_id, user_id=ann.id, token_id=record.id)
    with pytest.raises(InvalidToken, match="unknown or revoked"):
        await authenticate_personal_token(uow, clock, token)


async def test_refuses_an_expired_personal_token_from_its_expiry_instant(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, ann: User
) -> None:
    token = await _pat(uow, clock, ann, days=1)
    clock.advance(days=1)
    with pytest.raises(InvalidToken, match="expired"):
        await authenticate_personal_token(uow, clock, token)


async def test_a_personal_token_is_only_looked_up_in_the_tenant_it_names(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    token = await _pat(uow, clock, ann)
    other: Tenant = seed.tenant("other")
    forged = token.replace(ann.tenant_id, other.id)
    with pytest.raises(InvalidToken):
        await authenticate_personal_token(uow, clock, forged)


async def test_a_scoped_personal_token_keeps_its_scopes_and_the_trail_names_them(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    wanted = frozenset({Scope.REPORTING_READ, Scope.TRACKING})
    record, token = await create_personal_token(
        uow, clock, tenant_id=ann.tenant_id, user_id=ann.id, name="bi", expires_in_days=30, scopes=wanted
    )
    assert (await authenticate_personal_token(uow, clock, token)).scopes == wanted
    [row] = seed.audit("token.created")
    assert row.detail == {"id": record.id, "scopes": "tracking reporting:read"}


async def test_a_personal_token_with_an_empty_set_of_scopes_is_refused(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, seed: Seed, ann: User
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await create_personal_token(uow, clock, tenant_id=ann.tenant_id, user_id=ann.id, name="none",
                                    expires_in_days=30, scopes=frozenset())
    assert refused.value.field == "scopes"
    assert seed.store.personal_tokens == {}

"""A user's own profile (core.services.profile): reading preferences saved together, checked
first (a bad field stores nothing), and the password change that asks the current one."""

from __future__ import annotations

import pytest

from core.clock import FixedClock
from core.errors import ValidationFailed
from core.services.profile import ProfileChange, change_password, get_profile, update_profile
from core.tenancy import Tenant, User
from tests.fakes import FakePasswordHasher, FakeUnitOfWorkFactory

from .conftest import PASSWORD, Seed, active


@pytest.fixture
def tenant(seed: Seed) -> Tenant:
    return seed.tenant("acme", subscription=active(seats=2))


@pytest.fixture
def ann(seed: Seed, tenant: Tenant) -> User:
    return seed.user(tenant, "ann@acme.test")


async def test_a_new_user_reads_english_hours_and_minutes_from_monday_in_the_teams_zone(
    uow: FakeUnitOfWorkFactory, tenant: Tenant, ann: User
) -> None:
    profile = await get_profile(uow, tenant=tenant, user=ann)
    assert (profile.locale, profile.time_format, profile.week_starts_on) == ("en", "hm", "monday")
    assert profile.time_zone is None and profile.tenant_time_zone == tenant.time_zone


async def test_a_change_saves_what_it_names_and_keeps_the_rest(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, ann: User
) -> None:
    change = ProfileChange(locale="de", time_zone="Europe/Vienna", week_starts_on="sunday")
    saved = await update_profile(uow, clock, tenant=tenant, user=ann, change=change)
    assert (saved.locale, saved.time_zone, saved.week_starts_on, saved.time_format) == (
        "de", "Europe/Vienna", "sunday", "hm")
    renamed = await update_profile(uow, clock, tenant=tenant, user=ann,
                                   change=ProfileChange(name="  Ann Arbor ", time_zone=""))
    assert renamed.name == "Ann Arbor" and renamed.time_zone is None and renamed.locale == "de"


@pytest.mark.parametrize(("change", "field"), [
    (ProfileChange(locale="fr"), "locale"),
    (ProfileChange(time_zone="Atlantis/Capital"), "time_zone"),
    (ProfileChange(time_format="0.0"), "time_format"),
    (ProfileChange(week_starts_on="funday"), "week_starts_on"),
    (ProfileChange(name="   "), "name"),
    (ProfileChange(locale="de", time_zone="Atlantis/Capital"), "time_zone"),
])
async def test_a_bad_field_is_refused_by_name_and_nothing_is_stored(
    uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: Tenant, ann: User, change: ProfileChange,
    field: str,
) -> None:
    before = await get_profile(uow, tenant=tenant, user=ann)
    with pytest.raises(ValidationFailed) as refused:
        await update_profile(uow, clock, tenant=tenant, user=ann, change=change)
    assert refused.value.field == field
    assert await get_profile(uow, tenant=tenant, user=ann) == before


async def test_the_password_changes_only_with_the_current_one_and_a_valid_new_one(
    uow: FakeUnitOfWorkFactory, hasher: FakePasswordHasher, tenant: Tenant, ann: User
) -> None:
    async def stored() -> str | None:
        async with uow() as work:
            return await work.tenant(tenant.id).users().password_hash(ann.id)

    with pytest.raises(ValidationFailed) as wrong:
        await change_password(uow, hasher, tenant=tenant, user=ann, current="guess", new="a new passphrase")
    assert wrong.value.field == "current_password"
    with pytest.raises(ValidationFailed) as short:
        await change_password(uow, hasher, tenant=tenant, user=ann, current=PASSWORD, new="short")
    assert short.value.field == "new_password"
    hashed = await stored()
    assert hashed is not None and hasher.verify(hashed, PASSWORD)

    await change_password(uow, hasher, tenant=tenant, user=ann, current=PASSWORD, new="a new passphrase")
    hashed = await stored()
    assert hashed is not None and hasher.verify(hashed, "a new passphrase")
    assert not hasher.verify(hashed, PASSWORD)

"""Named-user seats of SPEC §5: licensing on first use, pools, and trial conversion."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import SeatLimit, ValidationFailed
from core.licensing import (
    AutoLicensing,
    FirstUseOutcome,
    PlanScope,
    SeatPool,
    keep_most_recent,
    keep_on_conversion,
    licence_on_first_use,
    pool_key,
    proposed_seats_on_purchase,
    seats_taken,
)

from .builders import plan

TODAY = date(2026, 2, 1)
AUTOMATIC, ADMIN_ONLY = AutoLicensing.AUTOMATIC, AutoLicensing.ADMIN_ONLY


def test_a_user_is_licensed_automatically_on_first_use_when_a_seat_is_free() -> None:
    """With 2 of 3 seats taken, first use takes the third."""
    use = licence_on_first_use(SeatPool(3, 2), AUTOMATIC, already_licensed=False)
    assert use.outcome is FirstUseOutcome.LICENSED and use.pool == SeatPool(3, 3)


def test_with_no_free_seat_the_user_is_told_no_seat_and_admins_are_notified() -> None:
    """A full pool refuses with reason no_seat and asks to notify the admins."""
    use = licence_on_first_use(SeatPool(3, 3), AUTOMATIC, already_licensed=False)
    assert (use.licensed, use.reason, use.notify_admins) == (False, "no_seat", True)
    assert use.pool == SeatPool(3, 3)


def test_with_admin_only_licensing_first_use_does_not_take_a_seat() -> None:
    """Admin-only: even with free seats, only an admin licenses users."""
    use = licence_on_first_use(SeatPool(10, 1), ADMIN_ONLY, already_licensed=False)
    assert (use.outcome, use.reason) == (FirstUseOutcome.REFUSED, "no_seat")


def test_during_a_trial_every_user_who_uses_the_product_is_licensed() -> None:
    """No seat limit during a trial, whatever the licensing setting."""
    for policy in AutoLicensing:
        use = licence_on_first_use(SeatPool(None, 500), policy, already_licensed=False)
        assert use.licensed and use.pool == SeatPool(None, 501)


def test_a_licensed_user_takes_no_second_seat() -> None:
    """Using the product again changes nothing."""
    use = licence_on_first_use(SeatPool(3, 3), AUTOMATIC, already_licensed=True)
    assert use.outcome is FirstUseOutcome.ALREADY_LICENSED and use.pool == SeatPool(3, 3)


def test_unlicensing_frees_the_seat_at_once_for_someone_else() -> None:
    """After an admin unlicenses one of 3, a fourth user can be licensed."""
    full = SeatPool(3, 3)
    assert not full.can_license_one()
    assert full.unlicense_one().license_one() == SeatPool(3, 3)


def test_licensing_beyond_the_paid_seats_is_refused() -> None:
    """An admin cannot license a fourth user on three seats."""
    with pytest.raises(SeatLimit):
        SeatPool(3, 3).license_one()


@given(seats=st.integers(0, 30), steps=st.lists(st.booleans(), max_size=80))
def test_licensed_users_never_exceed_paid_seats(seats: int, steps: list[bool]) -> None:
    """Whatever order of first uses and releases, licensed ≤ seats."""
    pool = SeatPool(seats, 0)
    for take in steps:
        if take:
            pool = licence_on_first_use(pool, AUTOMATIC, already_licensed=False).pool
        elif pool.licensed:
            pool = pool.unlicense_one()
        assert pool.licensed <= seats


def test_a_tenant_plan_draws_seats_from_the_tenants_own_pool() -> None:
    """Team seats belong to the tenant."""
    key = pool_key(plan("team"), "t-1", "e-1")
    assert (key.scope, key.owner_id, str(key)) == (PlanScope.TENANT, "t-1", "tenant:t-1")


def test_an_enterprise_plan_draws_seats_from_the_enterprise_pool() -> None:
    """Ultimate and Legacy DevOps Server share one pool across the enterprise's tenants."""
    assert str(pool_key(plan("ultimate"), "t-1", "e-1")) == "enterprise:e-1"
    assert pool_key(plan("legacy_server"), "t-2", "e-1") == pool_key(plan("ultimate"), "t-1", "e-1")


def test_an_enterprise_plan_needs_an_enterprise() -> None:
    """Without an enterprise there is no pool to share."""
    with pytest.raises(ValidationFailed):
        pool_key(plan("ultimate"), "t-1", None)


def test_on_an_enterprise_plan_one_person_takes_one_seat_however_many_tenants_they_use() -> None:
    """Ann in three tenants and Bob in one take two seats."""
    assert seats_taken(["ann", "bob", "ann", "ann"]) == 2


def _used(days_ago: int | None) -> date | None:
    return None if days_ago is None else TODAY - timedelta(days=days_ago)


def test_on_conversion_recent_users_keep_licences_most_recent_first_up_to_the_seats() -> None:
    """Two seats: the two most recent of the last 30 days keep; the rest are released."""
    users = [("ann", _used(10)), ("bob", _used(0)), ("cid", _used(3)), ("dan", _used(45)), ("eve", None)]
    keep, release = keep_on_conversion(users, TODAY, seats=2)
    assert keep == ("bob", "cid")
    assert release == ("ann", "dan", "eve")


def test_on_conversion_users_idle_for_30_days_lose_their_licence_even_with_seats_free() -> None:
    """The last 30 days are today and the 29 days before; day 30 is out."""
    keep, release = keep_on_conversion([("ann", _used(29)), ("bob", _used(30))], TODAY, seats=10)
    assert (keep, release) == (("ann",), ("bob",))


def test_on_conversion_ties_in_last_use_are_broken_by_user_id() -> None:
    """The same input always splits the same way."""
    users = [("zoe", _used(1)), ("amy", _used(1)), ("max", _used(1))]
    assert keep_on_conversion(users, TODAY, seats=2)[0] == ("amy", "max")


def test_a_user_listed_twice_is_refused() -> None:
    """Each user appears once."""
    with pytest.raises(ValidationFailed):
        keep_on_conversion([("ann", _used(1)), ("ann", _used(2))], TODAY, seats=2)


@given(
    last_uses=st.dictionaries(
        st.text("abcdef", min_size=1, max_size=4), st.none() | st.integers(-2, 60), max_size=20
    ),
    seats=st.integers(1, 25),
)
def test_conversion_keeps_at_most_the_seats_and_releases_everyone_else(
    last_uses: dict[str, int | None], seats: int
) -> None:
    """keep ∪ release is every user, they do not overlap, and keep fits in the seats."""
    users = [(user, _used(days)) for user, days in last_uses.items()]
    keep, release = keep_on_conversion(users, TODAY, seats)
    assert len(keep) <= seats
    assert set(keep).isdisjoint(release) and set(keep) | set(release) == set(last_uses)
    recent = sum(1 for days in last_uses.values() if days is not None and days < 30)
    assert len(keep) == min(seats, recent)


def test_the_purchase_page_proposes_as_many_seats_as_recent_users() -> None:
    """Three users in the last 30 days → three seats proposed."""
    users = [("ann", _used(1)), ("bob", _used(20)), ("cid", _used(29)), ("dan", _used(31))]
    assert proposed_seats_on_purchase(users, TODAY) == 3


def test_the_proposal_stays_within_the_chosen_plans_range() -> None:
    """Ultimate starts at 20 users; Free stops at 3; no users still proposes one seat."""
    users = [(f"u{n}", _used(1)) for n in range(5)]
    assert proposed_seats_on_purchase(users, TODAY, plan("ultimate")) == 20
    assert proposed_seats_on_purchase(users, TODAY, plan("free")) == 3
    assert proposed_seats_on_purchase([], TODAY) == 1


def test_when_a_paid_pool_shrinks_the_most_recent_users_keep_their_licences() -> None:
    """Renewing onto fewer seats keeps the latest users; never-seen users go first."""
    users = [("ann", _used(100)), ("bob", None), ("cid", _used(2)), ("dan", _used(40))]
    assert keep_most_recent(users, 2) == (("cid", "dan"), ("ann", "bob"))


def test_a_negative_seat_count_is_refused_when_splitting_users() -> None:
    """Seats below zero are bad input, not an empty pool."""
    with pytest.raises(ValidationFailed):
        keep_on_conversion([("ann", _used(1))], TODAY, seats=-1)

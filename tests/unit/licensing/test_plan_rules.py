"""Who may choose a plan, where and with how many seats (SPEC §2, §5)."""

from __future__ import annotations

import pytest

from core.errors import PlanNotAvailable, SeatLimit, ValidationFailed
from core.licensing import Deployment, check_new_purchase, check_plan_change, check_seat_change

from .builders import plan

CLOUD, ONPREM = Deployment.CLOUD, Deployment.ONPREM


def test_start_with_20_seats_is_refused_with_seat_limit() -> None:
    """Start allows 1–19 users, and the message says so."""
    with pytest.raises(SeatLimit) as refused:
        check_new_purchase(plan("start"), CLOUD, 20)
    assert refused.value.detail.startswith("The Start plan allows 1–19 users; ")
    assert refused.value.code == "seat_limit"


@pytest.mark.parametrize(
    ("plan_id", "seats"),
    [("free", 4), ("start", 0), ("team", 300), ("ultimate", 19)],
)
def test_a_seat_count_outside_the_plans_user_range_is_refused(plan_id: str, seats: int) -> None:
    """Free at most 3, Start 1–19, Team 1–299, Ultimate at least 20."""
    with pytest.raises(SeatLimit):
        check_new_purchase(plan(plan_id), CLOUD, seats)


@pytest.mark.parametrize(
    ("plan_id", "seats"),
    [("free", 3), ("start", 19), ("start", 1), ("team", 299), ("ultimate", 20), ("ultimate", 5000)],
)
def test_a_seat_count_at_the_edges_of_the_range_is_accepted(plan_id: str, seats: int) -> None:
    """The range bounds are inclusive."""
    check_new_purchase(plan(plan_id), CLOUD, seats)


def test_free_is_not_available_on_premises() -> None:
    """Free is a cloud plan; buying it for a server is refused with a clear message."""
    with pytest.raises(PlanNotAvailable) as refused:
        check_new_purchase(plan("free"), ONPREM, 2)
    assert "not available on-premises" in refused.value.detail
    assert refused.value.code == "plan_not_available"


def test_start_is_not_available_on_premises() -> None:
    """Start is a cloud plan too."""
    with pytest.raises(PlanNotAvailable):
        check_new_purchase(plan("start"), ONPREM, 5)


def test_team_and_ultimate_can_be_bought_on_premises() -> None:
    """Team (a dedicated server) and Ultimate (every server) are offered on-premises."""
    check_new_purchase(plan("team"), ONPREM, 5)
    check_new_purchase(plan("ultimate"), ONPREM, 25)


@pytest.mark.parametrize("plan_id", ["legacy_services", "legacy_server"])
def test_a_legacy_plan_cannot_be_bought_new_but_accepts_seat_changes(plan_id: str) -> None:
    """No new subscription may choose a legacy plan; an existing one may change its seats."""
    with pytest.raises(PlanNotAvailable) as refused:
        check_new_purchase(plan(plan_id), CLOUD, 10)
    assert "no longer offered" in refused.value.detail
    check_seat_change(plan(plan_id), 500, licensed_users=40)


def test_a_subscription_cannot_move_onto_a_legacy_plan() -> None:
    """Changing from Team to a legacy plan is choosing it anew, which is refused."""
    with pytest.raises(PlanNotAvailable):
        check_plan_change(plan("team"), plan("legacy_services"), CLOUD, 10, licensed_users=5)


def test_a_legacy_subscription_can_move_to_a_current_plan() -> None:
    """Leaving a legacy plan for Ultimate is allowed like any purchase of Ultimate."""
    check_plan_change(plan("legacy_server"), plan("ultimate"), ONPREM, 40, licensed_users=30)


def test_lowering_seats_below_the_licensed_users_is_refused_until_they_are_unlicensed() -> None:
    """Going from 10 to 5 seats with 8 licensed users asks to unlicense 3 users first."""
    with pytest.raises(SeatLimit) as refused:
        check_seat_change(plan("team"), 5, licensed_users=8)
    assert "unlicense 3 users first" in refused.value.detail
    check_seat_change(plan("team"), 5, licensed_users=5)


def test_a_seat_change_must_stay_within_the_plans_range() -> None:
    """Start cannot grow past 19 seats by a seat change either."""
    with pytest.raises(SeatLimit):
        check_seat_change(plan("start"), 20, licensed_users=1)


def test_a_plan_change_below_the_licensed_users_is_refused() -> None:
    """Moving Team (30 licensed) to Start with 19 seats needs 11 users unlicensed first."""
    with pytest.raises(SeatLimit) as refused:
        check_plan_change(plan("team"), plan("start"), CLOUD, 19, licensed_users=30)
    assert "unlicense 11 users first" in refused.value.detail


def test_seats_that_are_not_a_whole_number_are_refused() -> None:
    """True or 2.5 seats are bad input, not a seat count."""
    for seats in (True, 2.5):
        with pytest.raises(ValidationFailed) as refused:
            check_new_purchase(plan("team"), CLOUD, seats)  # type: ignore[arg-type]
        assert refused.value.field == "seats"

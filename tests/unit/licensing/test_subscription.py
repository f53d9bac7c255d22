"""The subscription value: usability by date, the trial countdown and the transition table (SPEC §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.licensing import (
    ALLOWED_TRANSITIONS,
    ExpiryReason,
    Subscription,
    SubscriptionStatus,
    is_allowed_transition,
    is_usable,
    trial_days_left,
    trial_ends_at,
    unusable_reason,
)

from .builders import TODAY, active, cancelled, past_due, trial

S = SubscriptionStatus


def test_the_countdown_rounds_up_partial_days() -> None:
    """27 days and one hour left shows 28 days."""
    ends = datetime(2026, 1, 29, tzinfo=UTC)
    assert trial_days_left(ends, ends - timedelta(days=27, hours=1)) == 28


def test_the_countdown_counts_whole_days_exactly() -> None:
    """Exactly 3 days left shows 3, one microsecond more shows 4."""
    ends = datetime(2026, 1, 29, tzinfo=UTC)
    assert trial_days_left(ends, ends - timedelta(days=3)) == 3
    assert trial_days_left(ends, ends - timedelta(days=3, microseconds=1)) == 4


def test_the_countdown_is_never_negative() -> None:
    """After the trial ended, zero days are left."""
    ends = datetime(2026, 1, 29, tzinfo=UTC)
    assert trial_days_left(ends, ends) == 0
    assert trial_days_left(ends, ends + timedelta(days=5)) == 0


@given(
    ends=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    before=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
)
def test_the_countdown_is_the_smallest_whole_number_of_days_covering_the_time_left(
    ends: datetime, before: timedelta
) -> None:
    """days_left − 1 < time left ≤ days_left, in days, for any instant before the end."""
    left = trial_days_left(ends, ends - before)
    assert timedelta(days=left - 1) < before <= timedelta(days=left)


def test_the_trial_ends_at_the_start_of_its_end_day_in_the_billing_time_zone() -> None:
    """A trial ending on Jan 29 in UTC+2 ends at 2026-01-28 22:00 UTC."""
    zone = timezone(timedelta(hours=2))
    ends = trial_ends_at(trial(), zone)
    assert ends == datetime(2026, 1, 29, tzinfo=zone)
    assert ends is not None and ends.astimezone(UTC) == datetime(2026, 1, 28, 22, tzinfo=UTC)


def test_a_running_trial_is_usable_and_an_ended_one_is_not() -> None:
    """The trial gives access until its end day, then trial_expired."""
    sub = trial()
    assert is_usable(sub, TODAY + timedelta(days=27))
    assert unusable_reason(sub, TODAY + timedelta(days=28)) is ExpiryReason.TRIAL_EXPIRED


def test_an_active_subscription_stays_usable_past_its_period_end_until_it_renews() -> None:
    """Renewal happens on the expiry day; access does not wait for the job."""
    assert is_usable(active(), date(2027, 1, 1))


def test_a_cancelled_subscription_stays_valid_until_the_period_ends() -> None:
    """Cancel stops renewal only; the licence lasts to the end of the running period."""
    sub = cancelled()
    assert is_usable(sub, date(2026, 12, 31))
    assert unusable_reason(sub, date(2027, 1, 1)) is ExpiryReason.PERIOD_ENDED


def test_a_past_due_subscription_keeps_access_for_a_14_day_grace() -> None:
    """Failed on Mar 1: usable through Mar 14, not on Mar 15."""
    sub = past_due(since=date(2026, 3, 1))
    assert is_usable(sub, date(2026, 3, 14))
    assert unusable_reason(sub, date(2026, 3, 15)) is ExpiryReason.PAYMENT_FAILED


def test_the_grace_is_configurable() -> None:
    """With a 3-day grace, access ends on the fourth day."""
    sub = past_due(since=date(2026, 3, 1))
    assert is_usable(sub, date(2026, 3, 3), grace_days=3)
    assert not is_usable(sub, date(2026, 3, 4), grace_days=3)


def test_only_the_listed_transitions_are_allowed() -> None:
    """The table of SPEC §3: e.g. expired never goes to cancelled, trialing never to past due."""
    assert is_allowed_transition(S.ACTIVE, S.CANCELLED)
    assert is_allowed_transition(S.CANCELLED, S.ACTIVE)
    assert is_allowed_transition(S.EXPIRED, S.ACTIVE)
    assert not is_allowed_transition(S.EXPIRED, S.CANCELLED)
    assert not is_allowed_transition(S.TRIALING, S.PAST_DUE)
    assert not is_allowed_transition(S.ACTIVE, S.EXPIRED)
    assert set(ALLOWED_TRANSITIONS) == set(SubscriptionStatus)


@pytest.mark.parametrize(
    "broken",
    [
        {"status": S.TRIALING},
        {"status": S.TRIALING, "trial_ends_on": TODAY, "seats": 5},
        {"status": S.ACTIVE},
        {"status": S.EXPIRED, "expired_on": TODAY},
    ],
)
def test_an_inconsistent_subscription_cannot_be_built(broken: dict[str, object]) -> None:
    """A trial needs its end and no seat limit; paid states need terms; expiry needs its reason."""
    with pytest.raises(ValueError, match="inconsistent"):
        Subscription("team", **broken)  # type: ignore[arg-type]


def test_access_ended_on_names_the_first_day_without_access_and_none_while_it_lasts() -> None:
    """Trial end, cancelled period end, grace end: the day access stopped, however late we ask."""
    from core.licensing.subscription import access_ended_on

    sub = trial()
    assert sub.trial_ends_on is not None
    assert access_ended_on(sub, sub.trial_ends_on - timedelta(days=1)) is None
    assert access_ended_on(sub, sub.trial_ends_on + timedelta(days=5)) == sub.trial_ends_on

    ending = cancelled()
    assert ending.period is not None
    assert access_ended_on(ending, ending.period.end + timedelta(days=2)) == ending.period.end

    late = past_due(since=date(2026, 1, 10))
    assert access_ended_on(late, date(2026, 1, 23), grace_days=14) is None
    assert access_ended_on(late, date(2026, 2, 2), grace_days=14) == date(2026, 1, 24)

    assert access_ended_on(active(), TODAY + timedelta(days=400)) is None  # renews, never ends

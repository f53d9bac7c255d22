"""A set-back clock (SPEC §7), on every access decision: the trusted-time rules and where
they sit in the decision."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.activation.trusted_time import (
    DEFAULT_TOLERANCE,
    MARK_EVERY,
    TrustedTime,
    clock_set_back,
    mark_due,
)
from core.licensing import AccessContext, Action, DenialReason, Deployment, Role, decide

from .builders import active, context

ISSUED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
LATEST = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)
TRUSTED = TrustedTime(latest=LATEST, newest_issued_at=ISSUED)


def test_a_clock_at_or_after_the_latest_trusted_time_is_believed() -> None:
    assert clock_set_back(LATEST, TRUSTED) is None
    assert clock_set_back(LATEST + timedelta(days=30), TRUSTED) is None


def test_a_clock_behind_by_less_than_the_tolerance_is_believed() -> None:
    """An hour by default: a clock that ran fast may be corrected."""
    assert clock_set_back(LATEST - DEFAULT_TOLERANCE, TRUSTED) is None


def test_a_clock_set_back_twelve_days_is_refused_with_both_times() -> None:
    now = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)

    found = clock_set_back(now, TRUSTED)

    assert found is not None and not found.from_file
    assert found.message == (
        "This server's clock reads 2026-12-09 09:00:00 UTC, more than 1 hour earlier than a time it "
        "has already trusted (2026-12-21 09:00:00 UTC). The clock appears to have been set back: "
        "correct the server's date and time. If they are correct, ask support for a new activation file."
    )


def test_a_clock_before_the_newest_files_issue_time_is_refused_for_the_file() -> None:
    """The file is the vendor's signed word, so it is the reason given first."""
    now = ISSUED - timedelta(days=1)

    found = clock_set_back(now, TRUSTED)

    assert found is not None and found.from_file
    assert found.message == (
        "This server's clock reads 2026-11-19 10:00:00 UTC, earlier than the issue time of the newest "
        "activation file it has verified (2026-11-20 10:00:00 UTC). The clock appears to have been set "
        "back: correct the server's date and time."
    )


def test_the_file_allows_the_same_five_minutes_as_its_installation() -> None:
    only_file = TrustedTime(newest_issued_at=ISSUED)
    assert clock_set_back(ISSUED - timedelta(minutes=5), only_file) is None
    assert clock_set_back(ISSUED - timedelta(minutes=5, seconds=1), only_file) is not None


def test_a_server_that_remembers_nothing_believes_any_clock() -> None:
    assert clock_set_back(datetime(2000, 1, 1, tzinfo=UTC), TrustedTime()) is None


@given(
    latest=st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    back=st.timedeltas(timedelta(0), timedelta(days=400)),
    tolerance=st.timedeltas(timedelta(0), timedelta(days=2)),
)
def test_a_clock_is_refused_exactly_when_it_is_further_back_than_the_tolerance(
    latest: datetime, back: timedelta, tolerance: timedelta
) -> None:
    refused = clock_set_back(latest - back, TrustedTime(latest=latest), tolerance) is not None
    assert refused == (back > tolerance)


def test_the_mark_is_written_again_only_a_minute_later() -> None:
    assert mark_due(LATEST, TrustedTime())
    assert not mark_due(LATEST + MARK_EVERY - timedelta(seconds=1), TRUSTED)
    assert mark_due(LATEST + MARK_EVERY, TRUSTED)


def test_a_naive_clock_reading_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        clock_set_back(datetime(2026, 12, 9), TRUSTED)


# In the access decision ---------------------------------------------------------------------


def onprem(
    now: datetime, *, trusted: TrustedTime | None = TRUSTED, role: Role = Role.TEAM,
    collection_admin: bool = False, tenant_uninstalled: bool = False,
) -> AccessContext:
    ctx = context(active(), deployment=Deployment.ONPREM, role=role, collection_admin=collection_admin,
                  tenant_uninstalled=tenant_uninstalled)
    return dataclasses.replace(ctx, now=now, trusted_time=trusted)


@pytest.mark.parametrize(
    "action", [Action.TRACK_TIME, Action.USE_TIME_TAB, Action.USE_API, Action.MANAGE_USERS]
)
def test_a_set_back_clock_refuses_everything_with_its_times(action: Action) -> None:
    now = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)

    decision = decide(onprem(now, role=Role.ADMINISTRATOR, collection_admin=True), action)

    assert (decision.allowed, decision.reason) == (False, DenialReason.CLOCK_SET_BACK)
    assert decision.message is not None and "2026-12-09 09:00:00 UTC" in decision.message
    assert "2026-12-21 09:00:00 UTC" in decision.message


@pytest.mark.parametrize("action", [Action.VIEW_SUBSCRIPTION, Action.PURCHASE])
def test_a_collection_admin_still_opens_the_subscription_page_to_see_why(action: Action) -> None:
    """There the warning names the times, and a newer activation file can be installed;
    anyone else asking for the page is refused for the clock."""
    now = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
    assert decide(onprem(now, collection_admin=True), action).allowed
    assert decide(onprem(now), action).reason is DenialReason.CLOCK_SET_BACK


def test_without_trusted_time_the_clock_is_not_in_question() -> None:
    """The cloud's clock is the vendor's: nothing is remembered, nothing refused."""
    ctx = onprem(datetime(2026, 12, 9, 9, 0, tzinfo=UTC), trusted=None)
    assert decide(ctx, Action.TRACK_TIME).allowed


def test_an_uninstalled_tenant_says_so_before_the_clock() -> None:
    ctx = onprem(datetime(2026, 12, 9, 9, 0, tzinfo=UTC), tenant_uninstalled=True)
    assert decide(ctx, Action.TRACK_TIME).reason is DenialReason.TENANT_UNINSTALLED

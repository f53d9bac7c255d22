"""The pure acceptance rules for offline activation files (SPEC §7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from core.activation.claims import (
    CLOCK_SKEW,
    ActivationClaims,
    ActivationRefused,
    ActivationState,
    RefusalReason,
    accept,
    claims_from_payload,
    claims_to_payload,
)
from core.errors import StintError

NOW = datetime(2026, 5, 9, 12, 0, 0, tzinfo=UTC)
SERVER = "SRV-ACME-1"


def claims(**changes: object) -> ActivationClaims:
    base = ActivationClaims(
        file_id="file-1",
        tenant="acme",
        server_id=SERVER,
        plan_id="team",
        seats=25,
        period_start=date(2026, 5, 1),
        expires_on=date(2027, 5, 1),
        issued_at=datetime(2026, 5, 9, 9, 0, 0, tzinfo=UTC),
        key_id="4a577d3ced0fb035",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def refusal(file: ActivationClaims, state: ActivationState, now: datetime) -> ActivationRefused:
    with pytest.raises(ActivationRefused) as caught:
        accept(file, state, SERVER, now)
    return caught.value


def test_a_valid_file_is_installed_and_sets_the_high_water_mark() -> None:
    """A first valid file becomes the installed one and its issue time the high-water mark."""
    file = claims()
    state = accept(file, ActivationState(), SERVER, NOW)
    assert state == ActivationState(installed=file, issued_at_high_water=file.issued_at)


def test_a_refusal_is_a_stint_error_with_a_stable_code() -> None:
    """Refusals carry the code activation_refused and a reason from the fixed list."""
    error = ActivationRefused.tampered()
    assert isinstance(error, StintError)
    assert error.code == "activation_refused"
    assert error.reason == "tampered"
    assert {r.value for r in RefusalReason} == {
        "tampered",
        "wrong_key",
        "expired",
        "not_yet_valid",
        "other_server",
        "older_than_installed",
        "clock_set_back",
        "malformed",
    }


def test_a_file_for_another_server_is_refused_naming_both_servers() -> None:
    """A file issued for server X is refused on server Y with both ids in the message."""
    error = refusal(claims(server_id="SRV-OTHER"), ActivationState(), NOW)
    assert error.reason is RefusalReason.OTHER_SERVER
    assert error.detail == (
        "This activation file was issued for server SRV-OTHER, not for this server (SRV-ACME-1)."
    )


def test_the_file_is_valid_through_the_day_before_it_expires() -> None:
    """On the last day before expires_on the file is still accepted."""
    last_moment = datetime(2027, 4, 30, 23, 59, 59, tzinfo=UTC)
    assert accept(claims(), ActivationState(), SERVER, last_moment).installed == claims()


def test_an_expired_file_is_refused_from_its_expiry_day_on() -> None:
    """On expires_on itself the file is refused as expired, naming the last valid day."""
    error = refusal(claims(), ActivationState(), datetime(2027, 5, 1, 0, 0, tzinfo=UTC))
    assert error.reason is RefusalReason.EXPIRED
    assert error.detail == (
        "This activation file expired on 2027-05-01 (it was valid up to and including "
        "2027-04-30). Ask support for a renewed file."
    )


def test_a_file_issued_in_the_future_is_not_yet_valid() -> None:
    """An issue time later than the server clock plus the skew is refused."""
    file = claims(issued_at=NOW + CLOCK_SKEW + timedelta(seconds=1))
    error = refusal(file, ActivationState(), NOW)
    assert error.reason is RefusalReason.NOT_YET_VALID
    assert error.detail == (
        "This activation file was issued at 2026-05-09 12:05:01 UTC, which is later than "
        "this server's clock (2026-05-09 12:00:00 UTC). Check the server's date and time "
        "and try again."
    )


def test_a_file_issued_within_the_clock_skew_is_accepted() -> None:
    """A few minutes of clock difference between issuer and server are tolerated."""
    file = claims(issued_at=NOW + CLOCK_SKEW)
    assert accept(file, ActivationState(), SERVER, NOW).installed == file


def test_a_file_whose_period_starts_later_is_not_yet_valid() -> None:
    """A period that starts after today is refused until its start day."""
    file = claims(period_start=date(2026, 5, 10))
    error = refusal(file, ActivationState(), NOW)
    assert error.reason is RefusalReason.NOT_YET_VALID
    assert error.detail == (
        "This activation file starts on 2026-05-10; today is 2026-05-09 (UTC) on this "
        "server. Install it on or after its start day."
    )


def test_a_newer_file_replaces_an_older_one_and_raises_the_high_water_mark() -> None:
    """A file issued later replaces the installed one and moves the mark to its issue time."""
    older = claims()
    newer = claims(file_id="file-2", seats=40, issued_at=older.issued_at + timedelta(hours=1))
    state = accept(older, ActivationState(), SERVER, NOW)
    state = accept(newer, state, SERVER, NOW)
    assert state == ActivationState(installed=newer, issued_at_high_water=newer.issued_at)


def test_an_older_file_never_replaces_a_newer_one() -> None:
    """After a newer file, the older one is refused and the state keeps the newer one."""
    older = claims()
    newer = claims(file_id="file-2", issued_at=older.issued_at + timedelta(hours=1))
    state = accept(newer, ActivationState(), SERVER, NOW)
    error = refusal(older, state, NOW)
    assert error.reason is RefusalReason.OLDER_THAN_INSTALLED
    assert error.detail == (
        "This activation file (issued 2026-05-09 09:00:00 UTC) is not newer than the one "
        "already installed on this server (issued 2026-05-09 10:00:00 UTC, file file-2). "
        "An older file never replaces a newer one."
    )


def test_a_different_file_issued_in_the_same_second_does_not_replace_the_installed_one() -> None:
    """Only a strictly later issue time replaces, so two files cannot swap back and forth."""
    state = accept(claims(), ActivationState(), SERVER, NOW)
    error = refusal(claims(file_id="file-2", seats=99), state, NOW)
    assert error.reason is RefusalReason.OLDER_THAN_INSTALLED


def test_the_installed_file_is_accepted_again_without_change() -> None:
    """Installing the same file twice is idempotent."""
    state = accept(claims(), ActivationState(), SERVER, NOW)
    assert accept(claims(), state, SERVER, NOW + timedelta(days=3)) == state


def test_a_clock_set_back_before_the_newest_issue_time_is_refused() -> None:
    """A server clock earlier than the high-water mark minus the skew is detected."""
    newest = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    state = ActivationState(installed=claims(), issued_at_high_water=newest)
    earlier = newest - CLOCK_SKEW - timedelta(seconds=1)
    error = refusal(claims(), state, earlier)
    assert error.reason is RefusalReason.CLOCK_SET_BACK
    assert error.detail == (
        "This server's clock (2026-06-01 07:54:59 UTC) is earlier than the issue time of an "
        "activation file it has already verified (2026-06-01 08:00:00 UTC). The clock appears "
        "to have been set back; correct the server's date and time and try again."
    )


def test_the_clock_check_counts_the_installed_file_when_no_mark_was_stored() -> None:
    """A state with an installed file but no stored mark still detects a clock set back."""
    state = ActivationState(installed=claims())
    error = refusal(claims(), state, claims().issued_at - timedelta(hours=1))
    assert error.reason is RefusalReason.CLOCK_SET_BACK


def test_a_clock_within_the_skew_of_the_mark_is_not_a_set_back() -> None:
    """Small clock differences near the mark are tolerated."""
    state = accept(claims(), ActivationState(), SERVER, NOW)
    assert accept(claims(), state, SERVER, claims().issued_at - CLOCK_SKEW) == state


def test_the_server_check_comes_before_the_time_checks() -> None:
    """An expired file for another server is refused as other_server, the first rule."""
    file = claims(server_id="SRV-OTHER", expires_on=date(2026, 5, 2))
    assert refusal(file, ActivationState(), NOW).reason is RefusalReason.OTHER_SERVER


def test_accept_needs_an_aware_now() -> None:
    """A naive datetime for now is a programming error, not a refusal."""
    with pytest.raises(ValueError, match="timezone-aware"):
        accept(claims(), ActivationState(), SERVER, datetime(2026, 5, 9, 12, 0))


def test_claims_survive_the_payload_round_trip() -> None:
    """Claims written to a payload read back identical."""
    file = claims()
    assert claims_from_payload(claims_to_payload(file), file.key_id) == file


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"seats": "25"}, "seats is missing or not a whole number"),
        ({"seats": True}, "seats is missing or not a whole number"),
        ({"seats": 0}, "seats must be a whole number of at least 1"),
        ({"ver": 2}, "format version 2 is not 1"),
        ({"iat": "yesterday"}, "iat is missing or not a whole number"),
        ({"expires_on": "2026-13-01"}, "month must be in 1..12"),
        ({"expires_on": "2026-04-01"}, "expires_on must be after period_start"),
        ({"tenant": ""}, "tenant must be non-empty text"),
        ({"server_id": None}, "server_id is missing or not text"),
    ],
)
def test_a_payload_that_breaks_the_format_is_malformed(change: dict[str, object], why: str) -> None:
    """Each broken field gives a malformed refusal that names the problem."""
    payload = {**claims_to_payload(claims()), **change}
    with pytest.raises(ActivationRefused) as caught:
        claims_from_payload(payload, "kid")
    assert caught.value.reason is RefusalReason.MALFORMED
    assert caught.value.detail == (
        f"This is not a valid Stint activation file ({why}). Upload the file exactly as support sent it."
    )

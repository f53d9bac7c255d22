"""Offline activation: what an activation file claims, and when a server accepts it (SPEC §7).

Pure rules only. Signatures, keys and file I/O live in ``plugins.activation``; this
module gets the claims after the signature was checked and decides, from the
server's own state and clock, whether they may be installed.

Expiry follows the ``[start, end)`` rule of billing periods: a file with
``expires_on = 2027-01-15`` is valid through 2027-01-14 and refused from
2027-01-15 on. "Today" is the UTC calendar day of ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from core.errors import StintError

__all__ = [
    "CLOCK_SKEW",
    "FORMAT_VERSION",
    "MAX_FILE_BYTES",
    "ActivationClaims",
    "ActivationRefused",
    "ActivationState",
    "RefusalReason",
    "accept",
    "claims_from_payload",
    "claims_to_payload",
    "describe",
]

#: How far apart the issuer's and the server's clocks may be without a refusal.
CLOCK_SKEW = timedelta(minutes=5)
#: The payload layout version written into every file (``ver``).
FORMAT_VERSION = 1
#: An activation file is a few hundred bytes; anything this large is not one (the API and
#: the page refuse it as malformed before reading it as text).
MAX_FILE_BYTES = 64 * 1024


class RefusalReason(StrEnum):
    """Why a server refused an activation file; each has its own message."""

    TAMPERED = "tampered"
    WRONG_KEY = "wrong_key"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    OTHER_SERVER = "other_server"
    OLDER_THAN_INSTALLED = "older_than_installed"
    CLOCK_SET_BACK = "clock_set_back"
    MALFORMED = "malformed"


class ActivationRefused(StintError):
    """An activation file was refused; ``reason`` is stable, ``detail`` is for the admin."""

    code = "activation_refused"

    def __init__(self, reason: RefusalReason, detail: str, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.reason = RefusalReason(reason)

    @classmethod
    def tampered(cls) -> ActivationRefused:
        return cls(
            RefusalReason.TAMPERED,
            "This activation file was changed after it was issued: its signature does not "
            "match its contents. Ask support for a new file and upload it unchanged.",
        )

    @classmethod
    def wrong_key(cls, key_id: str) -> ActivationRefused:
        return cls(
            RefusalReason.WRONG_KEY,
            f"This activation file was signed with a key this server does not trust "
            f"(key id {key_id}). Ask support for a file signed with a current Stint key, "
            f"or update Stint if the file was signed with a newer key.",
            key_id=key_id,
        )

    @classmethod
    def malformed(cls, why: str) -> ActivationRefused:
        return cls(
            RefusalReason.MALFORMED,
            f"This is not a valid Stint activation file ({why}). Upload the file exactly as support sent it.",
        )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _require_aware(name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


@dataclass(frozen=True, slots=True)
class ActivationClaims:
    """What one activation file grants: a plan and seats for one server, for a period."""

    file_id: str
    tenant: str
    server_id: str
    plan_id: str
    seats: int
    period_start: date
    expires_on: date
    issued_at: datetime
    key_id: str

    def __post_init__(self) -> None:
        for name in ("file_id", "tenant", "server_id", "plan_id", "key_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be non-empty text")
        if isinstance(self.seats, bool) or not isinstance(self.seats, int) or self.seats < 1:
            raise ValueError("seats must be a whole number of at least 1")
        for name in ("period_start", "expires_on"):
            value = getattr(self, name)
            if isinstance(value, datetime) or not isinstance(value, date):
                raise ValueError(f"{name} must be a calendar date")
        if self.expires_on <= self.period_start:
            raise ValueError("expires_on must be after period_start")
        if not isinstance(self.issued_at, datetime):
            raise ValueError("issued_at must be a datetime")
        _require_aware("issued_at", self.issued_at)
        object.__setattr__(self, "issued_at", self.issued_at.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class ActivationState:
    """What a server remembers: the installed file and the newest issue time it verified."""

    installed: ActivationClaims | None = None
    issued_at_high_water: datetime | None = None

    def __post_init__(self) -> None:
        if self.issued_at_high_water is not None:
            _require_aware("issued_at_high_water", self.issued_at_high_water)

    @property
    def high_water(self) -> datetime | None:
        """The newest issue time seen, counting the installed file even if the mark is unset."""
        marks = [] if self.installed is None else [self.installed.issued_at]
        if self.issued_at_high_water is not None:
            marks.append(self.issued_at_high_water)
        return max(marks) if marks else None


def accept(
    claims: ActivationClaims, state: ActivationState, server_id: str, now: datetime
) -> ActivationState:
    """The server's state with ``claims`` installed, or :class:`ActivationRefused` saying why not.

    Checks run in this order, so the admin sees the most fundamental problem first:
    other_server, clock_set_back, not_yet_valid, expired, older_than_installed.
    Installing the file that is already installed again changes nothing.
    """
    _require_aware("now", now)
    now = now.astimezone(UTC)
    today = now.date()
    if claims.server_id != server_id:
        raise ActivationRefused(
            RefusalReason.OTHER_SERVER,
            f"This activation file was issued for server {claims.server_id}, "
            f"not for this server ({server_id}).",
        )
    high_water = state.high_water
    if high_water is not None and now < high_water - CLOCK_SKEW:
        raise ActivationRefused(
            RefusalReason.CLOCK_SET_BACK,
            f"This server's clock ({_stamp(now)}) is earlier than the issue time of an "
            f"activation file it has already verified ({_stamp(high_water)}). The clock "
            f"appears to have been set back; correct the server's date and time and try again.",
        )
    if claims.issued_at > now + CLOCK_SKEW:
        raise ActivationRefused(
            RefusalReason.NOT_YET_VALID,
            f"This activation file was issued at {_stamp(claims.issued_at)}, which is later "
            f"than this server's clock ({_stamp(now)}). Check the server's date and time "
            f"and try again.",
        )
    if claims.period_start > today:
        raise ActivationRefused(
            RefusalReason.NOT_YET_VALID,
            f"This activation file starts on {claims.period_start.isoformat()}; today is "
            f"{today.isoformat()} (UTC) on this server. Install it on or after its start day.",
        )
    if today >= claims.expires_on:
        last_day = claims.expires_on - timedelta(days=1)
        raise ActivationRefused(
            RefusalReason.EXPIRED,
            f"This activation file expired on {claims.expires_on.isoformat()} (it was valid "
            f"up to and including {last_day.isoformat()}). Ask support for a renewed file.",
        )
    installed = state.installed
    if installed is not None and claims != installed and claims.issued_at <= installed.issued_at:
        raise ActivationRefused(
            RefusalReason.OLDER_THAN_INSTALLED,
            f"This activation file (issued {_stamp(claims.issued_at)}) is not newer than the "
            f"one already installed on this server (issued {_stamp(installed.issued_at)}, "
            f"file {installed.file_id}). An older file never replaces a newer one.",
        )
    marks = [claims.issued_at] + ([high_water] if high_water is not None else [])
    return ActivationState(installed=claims, issued_at_high_water=max(marks))


def claims_to_payload(claims: ActivationClaims) -> dict[str, object]:
    """The JWT payload for ``claims`` (the key id travels in the header, not here)."""
    return {
        "ver": FORMAT_VERSION,
        "jti": claims.file_id,
        "iat": int(claims.issued_at.timestamp()),
        "tenant": claims.tenant,
        "server_id": claims.server_id,
        "plan": claims.plan_id,
        "seats": claims.seats,
        "period_start": claims.period_start.isoformat(),
        "expires_on": claims.expires_on.isoformat(),
    }


def _text(payload: Mapping[str, object], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str):
        raise ValueError(f"{name} is missing or not text")
    return value


def _day(payload: Mapping[str, object], name: str) -> date:
    value = _text(payload, name)
    if len(value) != 10:
        raise ValueError(f"{name} is not a YYYY-MM-DD date")
    return date.fromisoformat(value)


def claims_from_payload(payload: Mapping[str, object], key_id: str) -> ActivationClaims:
    """The claims in a verified payload, or a ``malformed`` refusal naming what is wrong."""
    try:
        version = payload.get("ver")
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise ValueError(f"format version {version!r} is not {FORMAT_VERSION}")
        iat = payload.get("iat")
        seats = payload.get("seats")
        if isinstance(iat, bool) or not isinstance(iat, int):
            raise ValueError("iat is missing or not a whole number")
        if isinstance(seats, bool) or not isinstance(seats, int):
            raise ValueError("seats is missing or not a whole number")
        return ActivationClaims(
            file_id=_text(payload, "jti"),
            tenant=_text(payload, "tenant"),
            server_id=_text(payload, "server_id"),
            plan_id=_text(payload, "plan"),
            seats=seats,
            period_start=_day(payload, "period_start"),
            expires_on=_day(payload, "expires_on"),
            issued_at=datetime.fromtimestamp(iat, UTC),
            key_id=key_id,
        )
    except (ValueError, OverflowError, OSError) as error:
        raise ActivationRefused.malformed(str(error)) from None


def describe(claims: ActivationClaims, server_note: str = "") -> str:
    """What a file grants, one fact per line, as the admin and support read it."""
    last_day = claims.expires_on - timedelta(days=1)
    return "\n".join(
        [
            f"  tenant:     {claims.tenant}",
            f"  server:     {claims.server_id}{server_note}",
            f"  plan:       {claims.plan_id}",
            f"  seats:      {claims.seats}",
            f"  period:     {claims.period_start.isoformat()} to {claims.expires_on.isoformat()}"
            f" (valid through {last_day.isoformat()})",
            f"  expires on: {claims.expires_on.isoformat()}",
            f"  issued at:  {claims.issued_at.strftime('%Y-%m-%d %H:%M:%S UTC')}",
            f"  file id:    {claims.file_id}",
            f"  key id:     {claims.key_id}",
        ]
    )

"""Activation files: issue one (operator side) and verify one (server side, offline)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.activation.claims import (
    ActivationClaims,
    ActivationState,
    accept,
    claims_from_payload,
    claims_to_payload,
)
from core.errors import ValidationFailed
from core.ids import new_id
from plugins.activation.signing import TrustedKeys, decode_token, encode_token, key_id

__all__ = ["decode_file", "issue_file", "verify_file"]


def issue_file(
    *,
    tenant: str,
    server_id: str,
    plan_id: str,
    seats: int,
    expires_on: date,
    signing_key: Ed25519PrivateKey,
    now: datetime,
    period_start: date | None = None,
    file_id: str | None = None,
) -> str:
    """The text of a new activation file; ``period_start`` defaults to today (UTC)."""
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    issued_at = now.astimezone(UTC).replace(microsecond=0)
    today = issued_at.date()
    if expires_on <= today:
        raise ValidationFailed(
            f"expires {expires_on.isoformat()} must be after today ({today.isoformat()}, UTC)",
            field="expires",
        )
    try:
        claims = ActivationClaims(
            file_id=file_id or new_id(),
            tenant=tenant.strip(),
            server_id=server_id.strip(),
            plan_id=plan_id.strip(),
            seats=seats,
            period_start=period_start or today,
            expires_on=expires_on,
            issued_at=issued_at,
            key_id=key_id(signing_key.public_key()),
        )
    except ValueError as error:
        raise ValidationFailed(f"cannot issue this activation file: {error}") from None
    return encode_token(claims_to_payload(claims), signing_key)


def decode_file(text: str, trusted_keys: TrustedKeys) -> ActivationClaims:
    """The claims of a genuine file, or a tampered / wrong_key / malformed refusal."""
    payload, kid = decode_token(text, trusted_keys)
    return claims_from_payload(payload, kid)


def verify_file(
    text: str,
    trusted_keys: TrustedKeys,
    server_id: str,
    state: ActivationState,
    now: datetime,
) -> tuple[ActivationClaims, ActivationState]:
    """The file's claims and the server's state with it installed, or the refusal."""
    claims = decode_file(text, trusted_keys)
    return claims, accept(claims, state, server_id, now)

"""Time-based one-time codes (RFC 6238) with pyotp, their secrets sealed for storage.

Codes are 6 digits over 30-second steps (what every authenticator app expects); one step
of drift either way is accepted. ``now`` always comes from the app's clock, so a test's
fixed clock and the server agree on which code is current.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

from ..sealing import Sealer
from .keys import SigningKeys

__all__ = ["PyotpCodes"]

_DRIFT_STEPS = 1


class PyotpCodes:
    def __init__(self, keys: SigningKeys) -> None:
        self._sealer = Sealer(keys, b"stint totp secret v1")

    def new_secret(self) -> str:
        return pyotp.random_base32()

    def uri(self, secret: str, *, account: str, issuer: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)

    def code_at(self, secret: str, now: datetime) -> str:
        return str(pyotp.TOTP(secret).at(now))

    def matching_step(self, secret: str, code: str, now: datetime) -> int | None:
        if len(code) != 6 or not code.isdigit():
            return None
        totp = pyotp.TOTP(secret)
        current = totp.timecode(now)
        for offset in range(-_DRIFT_STEPS, _DRIFT_STEPS + 1):
            if hmac.compare_digest(totp.generate_otp(current + offset), code):
                return current + offset
        return None

    def seal(self, owner_id: str, secret: str) -> str:
        return self._sealer.seal(owner_id, secret)

    def unseal(self, owner_id: str, sealed: str) -> str:
        return self._sealer.unseal(owner_id, sealed)

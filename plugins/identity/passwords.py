"""Argon2id password hashing (SPEC §9), behind core.identity.ports.PasswordHasher."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["Argon2Hasher"]


class Argon2Hasher:
    """argon2-cffi's defaults (RFC 9106 low-memory profile); cheaper parameters for tests."""

    def __init__(self, *, fast: bool = False) -> None:
        self._hasher = (
            PasswordHasher(time_cost=1, memory_cost=8, parallelism=1) if fast else PasswordHasher()
        )
        # Verifying against this keeps an unknown account as slow as a wrong password,
        # so response times do not reveal which e-mail addresses exist.
        self._dummy = self._hasher.hash("not a real password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def burn(self, password: str) -> None:
        """Spend the time of one verification, for a sign-in with no such account."""
        self.verify(self._dummy, password)

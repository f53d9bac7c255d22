"""Identity: the users of a tenant, their passwords and their tokens (SPEC §9)."""

from core.identity.ports import (
    PasswordHasher,
    PersonalTokenRecord,
    RefreshTokenRecord,
    TokenRepository,
    UserRepository,
)

__all__ = [

    "PasswordHasher",
    "PersonalTokenRecord",
    "RefreshTokenRecord",
    "TokenRepository",
    "UserRepository",
]

"""The pool's asyncpg connection: text PostgreSQL cannot hold is the sender's bad input.

PostgreSQL's ``text`` cannot hold the character U+0000 (SQLite's can): a statement with
such a parameter — an id in a path (``/users/a%00b``), a query filter, a body's list of ids —
fails on the server with ``CharacterNotInRepertoireError`` (SQLSTATE 22021), or 22P05 for
``\\u0000`` in ``jsonb``. No stored text holds one (every write refuses control characters),
so the statement could only have matched nothing or been refused; every statement on every
path goes through these methods, so the engine's limit is answered here, once, as the
:class:`~core.errors.ValidationFailed` it is (422 problem+json), never as a 500. Nothing is
checked before a statement runs: the happy path costs nothing.
"""

from __future__ import annotations

from typing import Any

import asyncpg  # type: ignore[import-untyped]
from asyncpg.exceptions import (  # type: ignore[import-untyped]
    CharacterNotInRepertoireError,
    UntranslatableCharacterError,
)

from core.errors import ValidationFailed

__all__ = ["StintConnection"]

#: The refusal's wording, the same whichever statement met the character.
NUL_REFUSED = "text may not contain the character U+0000"

_UNHOLDABLE = (CharacterNotInRepertoireError, UntranslatableCharacterError)


def _refused(error: Exception) -> ValidationFailed:
    return ValidationFailed(NUL_REFUSED)


class StintConnection(asyncpg.Connection):  # type: ignore[misc]
    """asyncpg's connection, its statement methods translating text the server cannot hold."""

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().execute(*args, **kwargs)
        except _UNHOLDABLE as error:
            raise _refused(error) from error

    async def executemany(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().executemany(*args, **kwargs)
        except _UNHOLDABLE as error:
            raise _refused(error) from error

    async def fetch(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().fetch(*args, **kwargs)
        except _UNHOLDABLE as error:
            raise _refused(error) from error

    async def fetchrow(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().fetchrow(*args, **kwargs)
        except _UNHOLDABLE as error:
            raise _refused(error) from error

    async def fetchval(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().fetchval(*args, **kwargs)
        except _UNHOLDABLE as error:
            raise _refused(error) from error

    async def copy_records_to_table(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().copy_records_to_table(*args, **kwargs)
        except _UNHOLDABLE as error:
            raise _refused(error) from error

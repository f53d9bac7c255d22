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


def _translating(name: str) -> Any:
    """asyncpg's statement method ``name``, with the server's refusal of such text answered as
    the caller's bad input."""
    method = getattr(asyncpg.Connection, name)

    async def call(self: asyncpg.Connection, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except _UNHOLDABLE as error:
            raise ValidationFailed(NUL_REFUSED) from error

    call.__name__ = call.__qualname__ = name
    return call


class StintConnection(asyncpg.Connection):  # type: ignore[misc]
    """asyncpg's connection, its statement methods translating text the server cannot hold."""

    execute = _translating("execute")
    executemany = _translating("executemany")
    fetch = _translating("fetch")
    fetchrow = _translating("fetchrow")
    fetchval = _translating("fetchval")
    copy_records_to_table = _translating("copy_records_to_table")

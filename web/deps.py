"""Dependencies handlers declare by type: the process's adapters."""

from __future__ import annotations

from typing import cast

from litestar.datastructures import State
from litestar.di import NamedDependency

from plugins.bootstrap import Stint

__all__ = ["StintDep", "provide_stint"]

#: ``stint: StintDep`` in a handler gives it every adapter built at start-up.
StintDep = NamedDependency[Stint]


def provide_stint(state: State) -> Stint:
    """The adapters ``server.app`` put in the app's state at start-up (State's values are untyped).

    By key, not ``state.stint``: State answers an attribute only after Python's own lookup has
    failed and raised, which costs a few µs on every request that asks."""
    return cast(Stint, state["stint"])

"""How actors are named in the audit log: ``user:<id>``, ``operator:<id>``, ``system:<job>``."""

from __future__ import annotations

from core.tenancy import Operator, User

__all__ = ["actor_of"]


def actor_of(who: User | Operator | str) -> str:
    if isinstance(who, User):
        return f"user:{who.id}"
    if isinstance(who, Operator):
        return f"operator:{who.id}"
    return who

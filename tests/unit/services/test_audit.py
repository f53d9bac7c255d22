"""How actors are named in the audit log (core.services.audit)."""

from __future__ import annotations

from core.services.audit import actor_of
from core.tenancy import Operator, User


def test_names_a_user_by_their_id() -> None:
    user = User("u1", "t1", "p1", "ann@acme.test", "Ann", None, False, False, None)
    assert actor_of(user) == "user:u1"


def test_names_an_operator_by_their_id() -> None:
    assert actor_of(Operator("o1", "olga@vendor.test", "Olga")) == "operator:o1"


def test_keeps_a_system_actor_as_given() -> None:
    assert actor_of("system:renewals") == "system:renewals"

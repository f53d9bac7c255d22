"""A tenant always keeps a collection admin with the Administrator role."""

from __future__ import annotations

import pytest

from core.errors import LastAdministrator
from core.licensing.administrators import ensure_an_administrator_remains, is_tenant_administrator
from core.tenancy import User


def a_user(user_id: str, role: str | None, *, collection_admin: bool) -> User:
    return User(
        id=user_id, tenant_id="t1", person_id=f"p-{user_id}", email=f"{user_id}@acme.test",
        name=user_id, role=role, collection_admin=collection_admin, approval_manager=False,
        last_used_at=None,
    )


def test_only_a_collection_admin_with_the_administrator_role_counts() -> None:
    """Either half alone is not enough; a role of None follows the tenant's default."""
    assert is_tenant_administrator(a_user("a", "administrator", collection_admin=True), "team")
    assert not is_tenant_administrator(a_user("b", "administrator", collection_admin=False), "team")
    assert not is_tenant_administrator(a_user("c", "team", collection_admin=True), "administrator")
    assert is_tenant_administrator(a_user("d", None, collection_admin=True), "administrator")
    assert not is_tenant_administrator(a_user("d", None, collection_admin=True), "team")


@pytest.mark.parametrize(
    "users",
    [
        [],
        [a_user("a", "none", collection_admin=False)],
        [a_user("a", "administrator", collection_admin=False), a_user("b", "budget", collection_admin=True)],
        [a_user("a", None, collection_admin=True)],  # the default role is Team here
    ],
)
def test_refuses_a_tenant_left_without_an_administrator(users: list[User]) -> None:
    """The error is a conflict with the stable code last_administrator."""
    with pytest.raises(LastAdministrator) as caught:
        ensure_an_administrator_remains(users, "team")
    assert caught.value.code == "last_administrator"


def test_one_administrator_among_many_users_is_enough() -> None:
    users = [a_user(f"u{n}", "team", collection_admin=False) for n in range(5)]
    ensure_an_administrator_remains([*users, a_user("boss", "administrator", collection_admin=True)], "team")

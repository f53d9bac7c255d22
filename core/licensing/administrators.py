"""Every tenant keeps someone who can manage it (SPEC §5, §6).

Users, roles, the subscription and the settings are managed by collection admins and
Administrators; a user who is both can reach all of them. Were the last such user
demoted, every admin route would answer 404 for ever, including the one to undo it,
so a change that leaves no one of them is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from core.errors import LastAdministrator
from core.licensing.roles import Role

if TYPE_CHECKING:  # core.tenancy imports core.licensing: no import cycle at run time
    from core.tenancy import User

__all__ = ["ensure_an_administrator_remains", "is_tenant_administrator"]


def is_tenant_administrator(user: User, default_role: str) -> bool:
    """A collection admin whose role (their own, else the tenant's default) is Administrator."""
    return user.collection_admin and user.effective_role(default_role) == Role.ADMINISTRATOR.value


def ensure_an_administrator_remains(users_after: Iterable[User], default_role: str) -> None:
    """Refuse (LastAdministrator) unless one of the tenant's active users, as they would be
    after a change, is still a collection admin with the Administrator role."""
    if not any(user.active and is_tenant_administrator(user, default_role) for user in users_after):
        raise LastAdministrator(
            "This would leave the tenant without a collection admin who is an Administrator; "
            "make someone else one first."
        )

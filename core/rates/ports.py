"""What the rates context needs from storage: the tenant's rate currency and user rates.

Activity type rates are kept with the activity types (:mod:`core.activities.ports`), budget
rates with the budgets; the scope hands this one out as ``uow.tenant(t).rates()``.
"""

from __future__ import annotations

from typing import Protocol

from core.money import Money

__all__ = ["RateRepository"]


class RateRepository(Protocol):
    async def currency(self) -> str | None:
        """The tenant's rate currency, ``None`` until the first rate fixes it."""
        ...

    async def fix_currency(self, currency: str) -> str:
        """Fix the tenant's rate currency unless it is already fixed; return the fixed one."""
        ...

    async def user_rates(self) -> dict[str, Money]:
        """Every user's hourly rate (users without one are absent)."""
        ...

    async def user_rate(self, user_id: str) -> Money | None: ...

    async def set_user_rate(self, user_id: str, rate: Money | None) -> None:
        """Set or (with ``None``) remove a user's hourly rate."""
        ...

"""Rates (SPEC §12): the tenant's one rate currency, user rates, and the book that prices
worklogs.

**One currency per tenant**: the first rate set fixes it (kept in storage, see
:meth:`~core.rates.ports.RateRepository.fix_currency`); every later rate — a user's, an
activity type's, a budget's — must be in it, else 422 ``rate_currency_mismatch``. Chosen over
the subscription's currency because the price of work for a customer has nothing to do with
what the tenant pays for Stint, and a plan change must not reprice history.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import UserNotFound
from core.money import Money
from core.rates import RateBook, check_rate
from core.rates.ports import RateRepository
from core.tenancy import Tenant, User
from core.unit_of_work import TenantScope, UnitOfWorkFactory

__all__ = ["RateSheet", "accept_rate", "rate_book", "rate_sheet", "set_user_rate", "user_rates"]


async def accept_rate(rates: RateRepository, rate: Money, *, field: str = "hourly_rate") -> Money:
    """Check a rate about to be stored and fix the tenant's currency with the first one.

    Call inside the write unit of work that stores the rate (budgets do, for their rates).
    """
    check_rate(rate, await rates.currency(), field=field)
    fixed = await rates.fix_currency(rate.currency)
    # Fixed by a concurrent first rate in another currency: refuse as if it had come first.
    return check_rate(rate, fixed, field=field)


async def rate_book(scope: TenantScope) -> RateBook:
    """The tenant's user and activity type rates, to price many worklogs with one read each."""
    rates = scope.rates()
    return RateBook(
        users=await rates.user_rates(),
        activity_types={
            entry.id: entry.hourly_rate
            for entry in await scope.activity_types().all()
            if entry.hourly_rate is not None
        },
        currency=await rates.currency(),
    )


async def set_user_rate(
    uow: UnitOfWorkFactory, *, tenant: Tenant, user_id: str, rate: Money | None
) -> tuple[User, Money | None]:
    """Set (or with ``None`` remove) a user's hourly rate; answers the user and the rate."""
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        user = await scope.users().get(user_id)
        if user is None:
            raise UserNotFound("there is no such user")
        rates = scope.rates()
        if rate is not None:
            rate = await accept_rate(rates, rate)
        await rates.set_user_rate(user_id, rate)
        await work.commit()
    return user, rate


@dataclass(frozen=True, slots=True)
class RateSheet:
    """Every user of the tenant with their hourly rate (``None``: none of their own)."""

    currency: str | None
    users: list[tuple[User, Money | None]]


async def rate_sheet(
    uow: UnitOfWorkFactory, *, tenant: Tenant, after: str = "", limit: int = 100
) -> RateSheet:
    """A page of users (in the users list's order, after the user id ``after``) with rates."""
    async with uow() as work:
        scope = work.tenant(tenant.id)
        rates = await scope.rates().user_rates()
        currency = await scope.rates().currency()
        users = await scope.users().list(after=after, limit=limit)
    return RateSheet(currency, [(user, rates.get(user.id)) for user in users])


async def user_rates(uow: UnitOfWorkFactory, *, tenant: Tenant) -> dict[str, Money]:
    async with uow() as work:
        return await work.tenant(tenant.id).rates().user_rates()

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
from typing import Any

from core.errors import UserNotFound
from core.licensing.ports import GenerationCache
from core.money import Money
from core.rates import RateBook, check_rate
from core.rates.ports import RateRepository
from core.tenancy import Tenant, User
from core.unit_of_work import TenantScope, UnitOfWorkFactory

__all__ = [
    "RATE_BOOK_TTL_SECONDS", "RateSheet", "accept_rate", "cached_rate_book", "rate_book", "rate_sheet",
    "rates_scopes", "set_user_rate", "user_rates",
]

#: How long a cached rate book may be kept. Not what keeps it right (the generation is):
#: only a bound on what an idle tenant's book occupies.
RATE_BOOK_TTL_SECONDS = 300


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


def rates_scopes(tenant_id: str) -> tuple[str, ...]:
    """What a tenant's rate book is computed from, as cache scopes: ``r:<tenant id>`` moves
    after every commit that writes a user rate, an activity type or the rate currency (the
    storage notes it: ``plugins.storage.changes.rates_scope``); ``*`` when Redis returns
    after an outage (a change made meanwhile could not move ``r:``)."""
    return (f"r:{tenant_id}", "*")


def _plain(book: RateBook) -> dict[str, Any]:
    def rates(by: dict[str, Money]) -> dict[str, list[Any]]:
        return {key: [rate.amount, rate.currency] for key, rate in by.items()}

    return {"u": rates(dict(book.users)), "a": rates(dict(book.activity_types)), "c": book.currency}


def _from_plain(value: dict[str, Any]) -> RateBook:
    def rates(by: dict[str, list[Any]]) -> dict[str, Money]:
        return {key: Money(int(amount), str(currency)) for key, (amount, currency) in by.items()}

    return RateBook(users=rates(value["u"]), activity_types=rates(value["a"]), currency=value["c"])


async def cached_rate_book(scope: TenantScope, tenant_id: str, cache: GenerationCache | None) -> RateBook:
    """:func:`rate_book`, kept in ``cache`` (None: read every time) under the tenant's rates
    generation. The generation is read *before* the rates, so a book read before a change is
    stored under the old generation and never served after the change's commit moved it:
    a changed rate prices the very next request (docs/rates.md, "The cached rate book")."""
    if cache is None:
        return await rate_book(scope)
    key = f"ratebook:{tenant_id}"
    found = await cache.get(key, rates_scopes(tenant_id))
    if found.value is not None:
        return _from_plain(found.value)
    book = await rate_book(scope)
    await cache.put(key, found.stamp, _plain(book), RATE_BOOK_TTL_SECONDS)
    return book


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

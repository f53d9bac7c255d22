"""Rates (core.services.rates): the first rate fixes the tenant's currency, user rates, and
the rate book that prices worklogs with the documented precedence."""

from __future__ import annotations

import pytest

from core.activities import ActivityTypeChanges
from core.errors import UserNotFound, ValidationFailed
from core.money import Money
from core.rates import RateCurrencyMismatch, RateSource
from core.services.activity_types import list_activity_types, update_activity_type
from core.services.rates import rate_book, set_user_rate, user_rates
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory

from .conftest import Seed


async def test_the_first_rate_fixes_the_currency_and_a_rate_in_another_is_refused(
    uow: FakeUnitOfWorkFactory, seed: Seed, store: FakeDatabase
) -> None:
    tenant = seed.tenant()
    ann, bob = seed.user(tenant, "ann@acme.test"), seed.user(tenant, "bob@acme.test")
    await set_user_rate(uow, tenant=tenant, user_id=ann.id, rate=Money(6000, "CHF"))
    with pytest.raises(RateCurrencyMismatch) as refused:
        await set_user_rate(uow, tenant=tenant, user_id=bob.id, rate=Money(6000, "EUR"))
    assert refused.value.code == "rate_currency_mismatch" and refused.value.extra["currency"] == "CHF"
    assert await user_rates(uow, tenant=tenant) == {ann.id: Money(6000, "CHF")}
    # Removing every rate does not unfix it: history priced in CHF stays comparable.
    await set_user_rate(uow, tenant=tenant, user_id=ann.id, rate=None)
    assert store.rate_currencies[tenant.id] == "CHF"


async def test_a_rate_for_a_user_of_another_tenant_is_refused_as_unknown(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    acme, globex = seed.tenant(), seed.tenant("globex")
    stranger = seed.user(globex, "eve@globex.test")
    with pytest.raises(UserNotFound):
        await set_user_rate(uow, tenant=acme, user_id=stranger.id, rate=Money(100, "EUR"))


async def test_a_negative_rate_is_refused(uow: FakeUnitOfWorkFactory, seed: Seed) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    with pytest.raises(ValidationFailed):
        await set_user_rate(uow, tenant=tenant, user_id=ann.id, rate=Money(-1, "EUR"))


async def test_the_rate_book_prices_with_budget_then_activity_type_then_user(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    tenant = seed.tenant()
    ann = seed.user(tenant)
    design = next(e for e in await list_activity_types(uow, tenant=tenant) if e.name == "Design")
    await set_user_rate(uow, tenant=tenant, user_id=ann.id, rate=Money(6000, "EUR"))
    await update_activity_type(uow, tenant=tenant, activity_type_id=design.id,
                               changes=ActivityTypeChanges(hourly_rate=Money(9000, "EUR")))
    async with uow() as work:
        book = await rate_book(work.tenant(tenant.id))
    assert book.currency == "EUR"
    assert book.applied(ann.id, None, None) is not None
    assert book.rate_for(ann.id, None, None) == Money(6000, "EUR")
    assert book.rate_for(ann.id, design.id, None) == Money(9000, "EUR")
    chosen = book.applied(ann.id, design.id, Money(15000, "EUR"))
    assert chosen is not None and chosen.source is RateSource.BUDGET
    # 20 minutes of design: 9000 / 3 = 3000 exactly.
    assert book.amount_for(1200, ann.id, design.id, None) == Money(3000, "EUR")
    assert book.amount_for(1200, "nobody", None, None) is None

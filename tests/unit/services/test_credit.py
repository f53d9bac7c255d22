"""Asking for credit to be paid out, on the fakes: always refused, naming the balance kept
for the tenant's billing account in its currency, and nothing is written."""

from __future__ import annotations

import pytest

from core.errors import PayoutRefused
from core.services.credit import request_credit_payout
from tests.fakes import FakeUnitOfWorkFactory

from .conftest import Seed, active


async def test_refuses_a_payout_and_names_the_balance_and_currency(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    acme = seed.tenant("acme", subscription=active(), currency="EUR")
    seed.credit(acme, 2_500)
    seed.credit(acme, 1_000)
    with pytest.raises(PayoutRefused) as refused:
        await request_credit_payout(uow, tenant=acme)
    assert refused.value.code == "payout_refused"
    assert refused.value.extra == {"balance": 3_500, "currency": "EUR"}


async def test_refuses_a_payout_of_an_empty_ledger_too_and_writes_nothing(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    acme = seed.tenant("acme", subscription=active())
    with pytest.raises(PayoutRefused) as refused:
        await request_credit_payout(uow, tenant=acme)
    assert refused.value.extra == {"balance": 0, "currency": "USD"}
    assert uow.writes == 0 and seed.store.credit == {} and seed.actions() == []


async def test_reads_the_balance_of_the_billing_account_the_tenant_shares(
    uow: FakeUnitOfWorkFactory, seed: Seed
) -> None:
    acme = seed.tenant("acme", subscription=active())
    sister = seed.tenant("acme-eu", sharing=acme)
    seed.credit(acme, 700)
    with pytest.raises(PayoutRefused) as refused:
        await request_credit_payout(uow, tenant=sister)
    assert refused.value.extra["balance"] == 700

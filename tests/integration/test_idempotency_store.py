"""Claiming idempotency keys on SQLite and PostgreSQL: one holder per key, waiters get its
answer, a released or stale claim passes to the next request, expired keys are forgotten."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.clock import FixedClock
from core.idempotency import Answer, IdempotencyKeyReused, KeyScope, fingerprint
from core.services.idempotency import (
    Claimed,
    Replay,
    claim_key,
    forget_expired_keys,
    keep_answer,
    keep_claim_alive,
    release_key,
)
from plugins.storage import engine as storage_engine
from plugins.storage.idempotency_repo import PiccoloIdempotencyStore
from plugins.storage.migrations import upgrade
from plugins.storage.uow import PiccoloUnitOfWorkFactory

SECRET = b"k" * 32
SCOPE = KeyScope(tenant_id="t1", user_id="u1", key="key-1")
REQUEST = fingerprint(SECRET, "POST", "/api/v1/worklogs", b'{"length_s":60}')
ANSWER = Answer(201, (("content-type", "application/json"), ("content-length", "9")), b'{"id":"w"}')


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[PiccoloUnitOfWorkFactory]:
    engine = await storage_engine.open_engine(database_url, pool_size=4)
    storage_engine.bind(engine)
    await upgrade(engine)
    yield PiccoloUnitOfWorkFactory(engine)
    await storage_engine.close(engine)


STORE = PiccoloIdempotencyStore()


async def claim(uow: Any, clock: FixedClock, **kwargs: Any) -> Claimed | Replay:
    return await claim_key(uow, STORE, clock, kwargs.pop("scope", SCOPE), kwargs.pop("request", REQUEST),
                           **kwargs)


async def test_of_two_concurrent_claims_one_holds_the_key_and_the_other_gets_its_answer(
    uow: Any, clock: FixedClock
) -> None:
    """Both start at once; exactly one is Claimed, and the other returns the answer it kept."""
    results: list[Claimed | Replay] = []

    async def attempt() -> None:
        outcome = await claim(uow, clock)
        results.append(outcome)
        if isinstance(outcome, Claimed):
            await asyncio.sleep(0.2)  # the work, while the other waits
            assert await keep_answer(uow, STORE, clock, SCOPE, outcome, ANSWER)

    await asyncio.wait_for(asyncio.gather(attempt(), attempt()), timeout=20)

    assert [type(r).__name__ for r in results] == ["Claimed", "Replay"]
    assert results[1] == Replay(ANSWER)


async def test_a_released_key_passes_to_the_request_waiting_for_it(uow: Any, clock: FixedClock) -> None:
    """The holder failed and let go: the waiter claims the key and does the work itself."""
    first = await claim(uow, clock)
    assert isinstance(first, Claimed)
    waiter = asyncio.create_task(claim(uow, clock))
    await asyncio.sleep(0.1)
    assert not waiter.done()

    await release_key(uow, STORE, SCOPE, first)
    second = await asyncio.wait_for(waiter, timeout=20)

    assert isinstance(second, Claimed) and second.claim != first.claim
    async with uow():
        found = await STORE.find(SCOPE)
    assert found is not None and found.claim == second.claim and found.answer is None


async def test_a_claim_left_by_a_dead_request_is_taken_over_after_a_minute_by_the_clock(
    uow: Any, clock: FixedClock
) -> None:
    dead = await claim(uow, clock)
    assert isinstance(dead, Claimed)
    clock.advance(seconds=61)

    taker = await asyncio.wait_for(claim(uow, clock), timeout=20)

    assert isinstance(taker, Claimed)
    assert not await keep_answer(uow, STORE, clock, SCOPE, dead, ANSWER)
    assert await keep_answer(uow, STORE, clock, SCOPE, taker, ANSWER)


async def test_a_claim_that_does_not_move_for_a_minute_of_waiting_is_taken_over_while_the_clock_stands(
    uow: Any, clock: FixedClock
) -> None:
    """Staleness is also what the waiter saw: a clock held still (tests, a fake clock) cannot pin it."""
    dead = await claim(uow, clock)
    assert isinstance(dead, Claimed)
    ticks = iter(range(0, 10_000, 31))
    naps: list[float] = []

    async def nap(seconds: float) -> None:
        naps.append(seconds)

    taker = await claim(uow, clock, sleep=nap, monotonic=lambda: float(next(ticks)))

    assert isinstance(taker, Claimed) and taker.claim != dead.claim
    assert len(naps) >= 1


async def test_another_request_with_a_held_key_is_refused_at_once(uow: Any, clock: FixedClock) -> None:
    await claim(uow, clock)
    other = fingerprint(SECRET, "POST", "/api/v1/worklogs", b'{"length_s":120}')
    with pytest.raises(IdempotencyKeyReused):
        await asyncio.wait_for(claim(uow, clock, request=other), timeout=5)


async def test_an_expired_key_is_forgotten_when_claimed_again_and_by_housekeeping(
    uow: Any, clock: FixedClock
) -> None:
    old = await claim(uow, clock)
    assert isinstance(old, Claimed)
    assert await keep_answer(uow, STORE, clock, SCOPE, old, ANSWER)
    other_key = KeyScope(tenant_id="t1", user_id="u1", key="key-2")
    assert isinstance(await claim(uow, clock, scope=other_key), Claimed)
    clock.advance(hours=24, seconds=1)

    reused = await claim(uow, clock, request=fingerprint(SECRET, "PUT", "/elsewhere", b""))
    assert isinstance(reused, Claimed)

    assert await forget_expired_keys(uow, STORE, clock) == 1  # key-2; key-1 is new again
    async with uow():
        assert await STORE.find(other_key) is None
        assert await STORE.find(SCOPE) is not None


async def test_a_kept_answer_reads_back_byte_for_byte(uow: Any, clock: FixedClock) -> None:
    binary = Answer(200, (("content-type", "application/octet-stream"),), bytes(range(256)))
    first = await claim(uow, clock)
    assert isinstance(first, Claimed)
    assert await keep_answer(uow, STORE, clock, SCOPE, first, binary)

    assert await claim(uow, clock) == Replay(binary)


async def test_keys_of_other_users_and_tenants_do_not_meet(uow: Any, clock: FixedClock) -> None:
    scopes = [SCOPE, KeyScope("t1", "u2", SCOPE.key), KeyScope("t2", "u1", SCOPE.key)]
    outcomes = [await claim(uow, clock, scope=s) for s in scopes]
    assert all(isinstance(o, Claimed) for o in outcomes)



async def test_a_claim_its_holder_keeps_renewing_is_waited_for_however_long_the_work_takes(
    uow: Any, clock: FixedClock
) -> None:
    """A slow request renews its claim: the waiter, whose every pause looks like half a minute,
    never takes the key over and ends with the holder's answer."""
    holder = await claim(uow, clock)
    assert isinstance(holder, Claimed)
    ticks = iter(range(0, 100_000, 31))
    pauses = 0

    async def half_a_minute_passes(seconds: float) -> None:
        nonlocal pauses
        pauses += 1
        clock.advance(seconds=30)
        assert await _renew(uow, clock, holder)  # the holder, still working, renews
        if pauses == 6:
            assert await keep_answer(uow, STORE, clock, SCOPE, holder, ANSWER)

    waiter = await claim(uow, clock, sleep=half_a_minute_passes, monotonic=lambda: float(next(ticks)))

    assert waiter == Replay(ANSWER)
    assert pauses == 6


async def _renew(uow: Any, clock: FixedClock, holder: Claimed) -> bool:
    async with uow(write=True) as work:
        alive = await STORE.renew(SCOPE, holder.claim, clock.now())
        await work.commit()
    return alive


async def test_the_renewal_loop_renews_until_the_claim_is_lost(uow: Any, clock: FixedClock) -> None:
    """``keep_claim_alive`` moves the claim's time at each beat and stops once it was taken over."""
    holder = await claim(uow, clock)
    assert isinstance(holder, Claimed)
    beats: list[float] = []

    async def beat(seconds: float) -> None:
        beats.append(seconds)
        clock.advance(seconds=seconds)
        if len(beats) == 3:  # meanwhile the claim is judged dead and taken over
            async with uow(write=True) as work:
                assert await STORE.take_over(SCOPE, holder.claim, "someone-else", clock.now())
                await work.commit()

    await asyncio.wait_for(keep_claim_alive(uow, STORE, clock, SCOPE, holder, sleep=beat), timeout=20)

    assert beats == [15.0, 15.0, 15.0]
    async with uow():
        found = await STORE.find(SCOPE)
    assert found is not None and found.claim == "someone-else"

"""Idempotency keys, the use case, on the fakes: the first request claims a key, a retry of
the same request gets the kept answer, another request with the key is refused, a claim
let go or gone stale is the next request's, and waiting is polled without real sleeping."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest

from core.clock import FixedClock
from core.idempotency import (
    CLAIM_RENEW_EVERY,
    CLAIM_STALE_AFTER,
    KEY_LIFETIME,
    Answer,
    Fingerprint,
    IdempotencyKeyReused,
    KeyScope,
)
from core.services.idempotency import (
    Claimed,
    Replay,
    claim_key,
    forget_expired_keys,
    keep_answer,
    keep_claim_alive,
    release_key,
)
from tests.fakes import FakeDatabase, FakeIdempotencyStore, FakeUnitOfWorkFactory

SCOPE = KeyScope("tenant-1", "user-1", "key-1")
POST = Fingerprint("POST", "/api/v1/worklogs", "digest-a")
ANSWER = Answer(201, (("content-type", "application/json"),), b'{"id": "w1"}')


@pytest.fixture
def keys(store: FakeDatabase) -> FakeIdempotencyStore:
    return FakeIdempotencyStore(store)


class Waiting:
    """The pauses of a waiting request: each one runs ``meanwhile`` (another request's step)
    and moves the monotonic time by the pause, so nothing really sleeps."""

    def __init__(self, meanwhile: Callable[[int], Awaitable[None]] | None = None) -> None:
        self.pauses: list[float] = []
        self.elapsed = 0.0
        self._meanwhile = meanwhile

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.elapsed += seconds
        if self._meanwhile is not None:
            await self._meanwhile(len(self.pauses))
        if len(self.pauses) > 200:
            raise AssertionError("still waiting after 200 pauses")

    def monotonic(self) -> float:
        return self.elapsed


async def _claim(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock,
    request: Fingerprint = POST, scope: KeyScope = SCOPE, waiting: Waiting | None = None,
) -> Claimed | Replay:
    waiting = waiting or Waiting()
    return await claim_key(uow, keys, clock, scope, request, sleep=waiting.sleep, monotonic=waiting.monotonic)


async def _claimed(uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock) -> Claimed:
    claimed = await _claim(uow, keys, clock)
    assert isinstance(claimed, Claimed)
    return claimed


async def test_the_first_request_claims_the_key_and_the_claim_is_committed_before_the_work(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock, store: FakeDatabase
) -> None:
    claimed = await _claimed(uow, keys, clock)
    record = store.idempotency_keys[SCOPE]
    assert (record.claim, record.fingerprint, record.claimed_at, record.answer) == (
        claimed.claim, POST, clock.now(), None,
    )


async def test_a_retry_after_the_answer_was_kept_gets_the_same_answer(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock
) -> None:
    claimed = await _claimed(uow, keys, clock)
    assert await keep_answer(uow, keys, clock, SCOPE, claimed, ANSWER) is True
    clock.advance(hours=23)
    assert await _claim(uow, keys, clock) == Replay(ANSWER)


async def test_refuses_the_key_with_another_request(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock
) -> None:
    claimed = await _claimed(uow, keys, clock)
    await keep_answer(uow, keys, clock, SCOPE, claimed, ANSWER)
    other_body = Fingerprint("POST", "/api/v1/worklogs", "digest-b")
    with pytest.raises(IdempotencyKeyReused) as refused:
        await _claim(uow, keys, clock, other_body)
    assert refused.value.code == "idempotency_key_reused"


async def test_the_same_key_text_of_another_user_is_another_key(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock
) -> None:
    claimed = await _claimed(uow, keys, clock)
    await keep_answer(uow, keys, clock, SCOPE, claimed, ANSWER)
    theirs = KeyScope("tenant-1", "user-2", "key-1")
    assert isinstance(await _claim(uow, keys, clock, scope=theirs), Claimed)


async def test_a_released_key_is_claimed_afresh_by_the_retry(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock, store: FakeDatabase
) -> None:
    first = await _claimed(uow, keys, clock)
    await release_key(uow, keys, SCOPE, first)
    assert SCOPE not in store.idempotency_keys
    second = await _claimed(uow, keys, clock)
    assert second.claim != first.claim


async def test_a_key_older_than_its_lifetime_is_forgotten_and_may_carry_a_new_request(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock
) -> None:
    claimed = await _claimed(uow, keys, clock)
    await keep_answer(uow, keys, clock, SCOPE, claimed, ANSWER)
    clock.advance(seconds=KEY_LIFETIME.total_seconds() + 1)
    another = Fingerprint("DELETE", "/api/v1/worklogs/w1", "")
    assert isinstance(await _claim(uow, keys, clock, another), Claimed)


async def test_a_request_waits_for_a_live_holder_and_replays_its_answer(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock
) -> None:
    holder = await _claimed(uow, keys, clock)

    async def answered_on_the_third_pause(pause: int) -> None:
        if pause == 3:
            await keep_answer(uow, keys, clock, SCOPE, holder, ANSWER)

    waiting = Waiting(answered_on_the_third_pause)
    assert await _claim(uow, keys, clock, waiting=waiting) == Replay(ANSWER)
    assert waiting.pauses == [0.02, 0.04, 0.08]


async def test_a_waiting_request_does_the_work_when_the_holder_lets_go(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock, store: FakeDatabase
) -> None:
    holder = await _claimed(uow, keys, clock)

    async def released(pause: int) -> None:
        await release_key(uow, keys, SCOPE, holder)

    claimed = await _claim(uow, keys, clock, waiting=Waiting(released))
    assert isinstance(claimed, Claimed) and claimed.claim != holder.claim
    assert store.idempotency_keys[SCOPE].claim == claimed.claim


async def test_a_claim_older_than_the_stale_limit_is_taken_over_and_its_holder_cannot_answer(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock
) -> None:
    dead = await _claimed(uow, keys, clock)
    clock.advance(seconds=CLAIM_STALE_AFTER.total_seconds())
    waiting = Waiting()
    taker = await _claim(uow, keys, clock, waiting=waiting)
    assert isinstance(taker, Claimed) and taker.claim != dead.claim and waiting.pauses == []
    assert await keep_answer(uow, keys, clock, SCOPE, dead, ANSWER) is False
    assert await keep_answer(uow, keys, clock, SCOPE, taker, ANSWER) is True


async def test_a_claim_not_renewed_while_watched_is_taken_over_though_the_clock_stands_still(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock
) -> None:
    dead = await _claimed(uow, keys, clock)
    waiting = Waiting()
    taker = await _claim(uow, keys, clock, waiting=waiting)
    assert isinstance(taker, Claimed) and taker.claim != dead.claim
    assert waiting.elapsed >= CLAIM_STALE_AFTER.total_seconds() and max(waiting.pauses) == 0.5


async def test_a_renewed_claim_is_not_taken_over(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock
) -> None:
    holder = await _claimed(uow, keys, clock)

    async def renewed_then_answered(pause: int) -> None:
        clock.advance(seconds=20)
        await keys.renew(SCOPE, holder.claim, clock.now())
        if pause == 10:
            await keep_answer(uow, keys, clock, SCOPE, holder, ANSWER)

    assert await _claim(uow, keys, clock, waiting=Waiting(renewed_then_answered)) == Replay(ANSWER)


async def test_keeping_a_claim_alive_renews_it_until_it_is_lost(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock, store: FakeDatabase
) -> None:
    claimed = await _claimed(uow, keys, clock)
    started = clock.now()
    seen: list[datetime] = []

    async def tick(seconds: float) -> None:
        seen.append(store.idempotency_keys[SCOPE].claimed_at)
        clock.advance(seconds=seconds)
        if len(seen) == 3:  # the claim is lost (released, or taken over) meanwhile
            await keys.release(SCOPE, claimed.claim)

    await keep_claim_alive(uow, keys, clock, SCOPE, claimed, sleep=tick)
    assert seen == [started, started + CLAIM_RENEW_EVERY, started + 2 * CLAIM_RENEW_EVERY]


async def test_housekeeping_forgets_only_keys_past_their_lifetime(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotencyStore, clock: FixedClock, store: FakeDatabase
) -> None:
    await _claimed(uow, keys, clock)
    clock.advance(hours=12)
    await _claim(uow, keys, clock, scope=KeyScope("tenant-1", "user-1", "key-2"))
    clock.advance(hours=12, seconds=1)
    assert await forget_expired_keys(uow, keys, clock) == 1
    assert list(store.idempotency_keys) == [KeyScope("tenant-1", "user-1", "key-2")]

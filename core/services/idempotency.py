"""Idempotency keys, the use case: claim a key, wait for a concurrent holder, keep or let go.

Each step is its own short transaction, committed before the work starts or after it
ended: the claim must be seen by a concurrent retry while the work runs, and the work's
own transaction must not wait on the key's. On PostgreSQL the claim is an INSERT that a
second claimant finds taken; on SQLite the write lock orders the claimants the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from core.clock import Clock
from core.idempotency import (
    CLAIM_RENEW_EVERY,
    KEY_LIFETIME,
    Answer,
    Fingerprint,
    IdempotencyStore,
    KeyRecord,
    KeyScope,
    Next,
    next_step,
)
from core.ids import new_id
from core.unit_of_work import UnitOfWorkFactory

__all__ = [
    "Claimed",
    "Replay",
    "claim_key",
    "forget_expired_keys",
    "keep_answer",
    "keep_claim_alive",
    "release_key",
]

#: The first pause of a request waiting for another's answer; it doubles up to the cap.
_FIRST_PAUSE_S = 0.02
_MAX_PAUSE_S = 0.5


@dataclass(frozen=True, slots=True)
class Claimed:
    """The key is this request's (``claim``): do the work, then keep or release."""

    claim: str


@dataclass(frozen=True, slots=True)
class Replay:
    """The key was answered before: send ``answer`` again."""

    answer: Answer


async def claim_key(
    uow: UnitOfWorkFactory,
    store: IdempotencyStore,
    clock: Clock,
    scope: KeyScope,
    request: Fingerprint,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Claimed | Replay:
    """Claim ``scope``'s key for ``request``, or the answer it already has.

    While another live request holds the key this waits for its answer (polling); a claim
    neither answered nor renewed for ``CLAIM_STALE_AFTER`` is taken over. Raises
    ``IdempotencyKeyReused`` when the key belongs to another request.
    """
    claim = new_id()
    record = await _claim(uow, store, clock, scope, request, claim)
    watching, since = (record.claim, record.claimed_at), monotonic()
    pause = _FIRST_PAUSE_S
    while True:
        if (record.claim, record.claimed_at) != watching:  # renewed, taken over or claimed anew
            watching, since = (record.claim, record.claimed_at), monotonic()
        waited = timedelta(seconds=monotonic() - since)
        step = next_step(record, request, claim, clock.now(), waited=waited)
        if step is Next.PROCEED:
            return Claimed(claim)
        if step is Next.REPLAY and record.answer is not None:
            return Replay(record.answer)
        if step is Next.TAKE_OVER:
            async with uow(write=True) as work:
                took = await store.take_over(scope, record.claim, claim, clock.now())
                await work.commit()
            if took:
                return Claimed(claim)
        else:
            await sleep(pause)
            pause = min(pause * 2, _MAX_PAUSE_S)
        async with uow() as work:
            found = await store.find(scope)
        # Gone: its holder let go (failed, or answered 5xx); this request may do the work.
        record = found if found is not None else await _claim(uow, store, clock, scope, request, claim)


async def _claim(
    uow: UnitOfWorkFactory, store: IdempotencyStore, clock: Clock, scope: KeyScope, request: Fingerprint,
    claim: str,
) -> KeyRecord:
    now = clock.now()
    async with uow(write=True) as work:
        record = await store.claim(scope, request, claim, now, forget_before=now - KEY_LIFETIME)
        await work.commit()
    return record


async def keep_claim_alive(
    uow: UnitOfWorkFactory, store: IdempotencyStore, clock: Clock, scope: KeyScope, claimed: Claimed,
    *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Renew the claim every ``CLAIM_RENEW_EVERY`` while the work runs (run it as a task and
    cancel it when the work ends); returns if the claim was lost."""
    while True:
        await sleep(CLAIM_RENEW_EVERY.total_seconds())
        async with uow(write=True) as work:
            alive = await store.renew(scope, claimed.claim, clock.now())
            await work.commit()
        if not alive:
            return


async def keep_answer(
    uow: UnitOfWorkFactory, store: IdempotencyStore, clock: Clock, scope: KeyScope, claimed: Claimed,
    answer: Answer,
) -> bool:
    """Store the answer for replay; False when the claim was taken over meanwhile."""
    async with uow(write=True) as work:
        kept = await store.keep(scope, claimed.claim, answer, clock.now())
        await work.commit()
    return kept


async def release_key(
    uow: UnitOfWorkFactory, store: IdempotencyStore, scope: KeyScope, claimed: Claimed
) -> None:
    """Let the key go unanswered: the request failed, so a retry does the work."""
    async with uow(write=True) as work:
        await store.release(scope, claimed.claim)
        await work.commit()


async def forget_expired_keys(uow: UnitOfWorkFactory, store: IdempotencyStore, clock: Clock) -> int:
    """Housekeeping: drop keys older than ``KEY_LIFETIME``; how many."""
    async with uow(write=True) as work:
        pruned = await store.prune(clock.now() - KEY_LIFETIME)
        await work.commit()
    return pruned

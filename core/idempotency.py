"""Idempotency keys (Stripe's model): a retried request gets the first answer, not a second effect.

A client sends ``Idempotency-Key`` with a mutating request. The first answer is kept with
the key for :data:`KEY_LIFETIME`; the same request again (same method, path and body) gets
that answer back without the work being done twice, and the same key with another
request is refused (:class:`IdempotencyKeyReused`). Keys belong to one user of one tenant
(:class:`KeyScope`): another user's or tenant's identical key is a different key.

This module holds the rules only — what a key may look like, what identifies a request,
what answer is worth keeping, when a claim is stale — and the store's port. The use case
(claim, wait, keep, release) is ``core.services.idempotency``; HTTP is the web layer's.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from core.errors import StintError, ValidationFailed

__all__ = [
    "CLAIM_RENEW_EVERY",
    "CLAIM_STALE_AFTER",
    "KEY_LIFETIME",
    "MAX_KEY_LENGTH",
    "Answer",
    "Fingerprint",
    "IdempotencyKeyReused",
    "IdempotencyStore",
    "InvalidIdempotencyKey",
    "KeyRecord",
    "KeyScope",
    "Next",
    "check_key",
    "fingerprint",
    "next_step",
    "worth_keeping",
]

#: How long a key and its answer are kept; a key used again after that is a new request.
KEY_LIFETIME = timedelta(hours=24)
#: A claim neither answered nor renewed within this long belongs to a request that died (a
#: killed process); a retry then takes the claim over and does the work.
CLAIM_STALE_AFTER = timedelta(seconds=60)
#: How often a request still working renews its claim, so a slow request is never mistaken
#: for a dead one.
CLAIM_RENEW_EVERY = timedelta(seconds=15)
MAX_KEY_LENGTH = 255

# Printable ASCII, space included (Stripe allows any such string, UUIDs being the usual one).
_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")


class InvalidIdempotencyKey(ValidationFailed):
    code = "invalid_idempotency_key"


class IdempotencyKeyReused(StintError):
    """The key was first used with another request (method, path or body)."""

    code = "idempotency_key_reused"


def check_key(raw: str) -> str:
    """The key as sent, if it is 1–255 printable ASCII characters."""
    if _KEY.fullmatch(raw) is None:
        raise InvalidIdempotencyKey(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters "
            "(a UUID is a good choice).",
            field="Idempotency-Key",
        )
    return raw


@dataclass(frozen=True, slots=True)
class KeyScope:
    """Whose key it is: the same text from another user or tenant is another key."""

    tenant_id: str
    user_id: str
    key: str


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What identifies the request a key was first used with."""

    method: str
    #: The path with its query string.
    path: str
    #: HMAC-SHA-256 of the body, hex.
    body_digest: str


_BOUNDARY = re.compile(r'boundary="?([^";,]+)"?', re.IGNORECASE)


def fingerprint(secret: bytes, method: str, path: str, body: bytes, content_type: str = "") -> Fingerprint:
    """The request's fingerprint; the body is digested with a key of the server's.

    Keyed, because a body may hold a password (adding a user): a plain SHA-256 of a body
    whose other fields are guessable would be a fast-to-test password hash in the table.
    A multipart body's boundary is random per attempt, so it is left out of the digest:
    a client that builds the same form again sends the same request.
    """
    found = _BOUNDARY.search(content_type) if content_type.lower().startswith("multipart/") else None
    if found is not None:
        body = body.replace(found.group(1).encode("latin-1"), b"")
    digest = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return Fingerprint(method=method.upper(), path=path, body_digest=digest)


@dataclass(frozen=True, slots=True)
class Answer:
    """A kept answer: status, the headers worth replaying (lower-case names) and the body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key as stored: claimed by one request until its answer is kept (or the claim let go)."""

    fingerprint: Fingerprint
    #: The id of the request that holds (or held) the key.
    claim: str
    claimed_at: datetime
    created_at: datetime
    answer: Answer | None = None


def worth_keeping(status: int, *, performed: bool) -> bool:
    """Whether an answer is kept for replay, or the claim let go so a retry does the work.

    Kept: successes and the domain's refusals of a request it read and acted on (a conflict,
    a locked week, a missing worklog): the same request must get the same answer. Not kept:
    5xx (nothing was changed; the retry is what the client should do), 429 (come back
    later) and answers given before the operation ran (``performed`` False: the request
    could not be read, broke an input rule, or the access decision refused it) — as with
    Stripe, a corrected request may then reuse its key.
    """
    return performed and status < 500 and status != 429


class Next(Enum):
    """What a request holding a key does next."""

    #: The key is this request's: do the work.
    PROCEED = "proceed"
    #: The answer is kept: send it again.
    REPLAY = "replay"
    #: Another request holds the key and is alive: wait for its answer.
    WAIT = "wait"
    #: Another request's claim is stale: take it over and do the work.
    TAKE_OVER = "take_over"


def next_step(
    record: KeyRecord, request: Fingerprint, claim: str, now: datetime, *, waited: timedelta = timedelta(0)
) -> Next:
    """What request ``claim`` (fingerprint ``request``) does about ``record``.

    ``waited`` is how long this request has itself watched the claim without seeing it
    renewed: a claim that does not move for :data:`CLAIM_STALE_AFTER` is stale even when
    the clock (which tests may hold still) says otherwise.
    """
    if record.fingerprint != request:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used with another request "
            f"({record.fingerprint.method} {record.fingerprint.path}, or another body); "
            "send a new key for a new request.",
        )
    if record.answer is not None:
        return Next.REPLAY
    if record.claim == claim:
        return Next.PROCEED
    if waited >= CLAIM_STALE_AFTER or now - record.claimed_at >= CLAIM_STALE_AFTER:
        return Next.TAKE_OVER
    return Next.WAIT


class IdempotencyStore(Protocol):
    """Keys and their answers. Each method runs in the caller's unit of work, which the
    caller commits: a claim must be visible to other requests before the work starts."""

    async def claim(
        self, scope: KeyScope, request: Fingerprint, claim: str, now: datetime, *, forget_before: datetime
    ) -> KeyRecord:
        """Claim the key for ``claim`` unless it is held; the key as it now stands.

        A key created before ``forget_before`` is forgotten first (its request is over).
        """
        ...

    async def find(self, scope: KeyScope) -> KeyRecord | None: ...

    async def take_over(self, scope: KeyScope, stale: str, claim: str, now: datetime) -> bool:
        """Move an unanswered key from claim ``stale`` to ``claim``; False if it moved meanwhile."""
        ...

    async def renew(self, scope: KeyScope, claim: str, now: datetime) -> bool:
        """Mark an unanswered claim alive at ``now``; False if ``claim`` no longer holds the key."""
        ...

    async def keep(self, scope: KeyScope, claim: str, answer: Answer, now: datetime) -> bool:
        """Store the answer of the request holding the key; False if it no longer holds it."""
        ...

    async def release(self, scope: KeyScope, claim: str) -> None:
        """Let go of an unanswered key held by ``claim`` (the next request does the work)."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget keys created before ``before``; how many."""
        ...

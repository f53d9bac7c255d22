"""The idempotency-key rules (``core.idempotency``): keys, fingerprints, what is kept, what comes next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.idempotency import (
    CLAIM_STALE_AFTER,
    Answer,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    KeyRecord,
    Next,
    check_key,
    fingerprint,
    next_step,
    worth_keeping,
)

SECRET = b"s" * 32
NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=255))
def test_accepts_every_key_of_1_to_255_printable_ascii_characters(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "a\nb", "a\x00", "\x7f"])
def test_refuses_empty_long_non_ascii_and_control_keys(key: str) -> None:
    with pytest.raises(InvalidIdempotencyKey) as refused:
        check_key(key)
    assert refused.value.code == "invalid_idempotency_key"
    assert refused.value.field == "Idempotency-Key"


def test_a_fingerprint_tells_apart_method_path_and_body() -> None:
    base = fingerprint(SECRET, "post", "/api/v1/worklogs", b'{"a":1}')
    assert base == fingerprint(SECRET, "POST", "/api/v1/worklogs", b'{"a":1}')
    assert base != fingerprint(SECRET, "PUT", "/api/v1/worklogs", b'{"a":1}')
    assert base != fingerprint(SECRET, "POST", "/api/v1/worklogs?x=1", b'{"a":1}')
    assert base != fingerprint(SECRET, "POST", "/api/v1/worklogs", b'{"a":2}')


def test_the_body_digest_is_keyed_so_it_is_no_plain_hash_of_a_password() -> None:
    """Without the server's key the digest cannot be recomputed from a guessed body."""
    import hashlib

    body = b'{"email":"ann@acme.test","password":"hunter2"}'
    digest = fingerprint(SECRET, "POST", "/api/v1/users", body).body_digest
    assert digest != hashlib.sha256(body).hexdigest()
    assert digest != fingerprint(b"k" * 32, "POST", "/api/v1/users", body).body_digest


def test_a_multipart_body_built_again_with_a_new_boundary_is_the_same_request() -> None:
    def form(boundary: str) -> tuple[bytes, str]:
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"w.csv\"\r\n\r\n"
                f"date,length\r\n--{boundary}--\r\n").encode()
        return body, f"multipart/form-data; boundary={boundary}"

    one, two = form("aaaa1111"), form("bbbb2222")
    assert fingerprint(SECRET, "POST", "/p", *one) == fingerprint(SECRET, "POST", "/p", *two)
    other = (one[0].replace(b"date,length", b"date,other"), one[1])
    assert fingerprint(SECRET, "POST", "/p", *one) != fingerprint(SECRET, "POST", "/p", *other)


@pytest.mark.parametrize(
    ("status", "performed", "kept"),
    [
        (200, True, True),
        (201, True, True),
        (204, True, True),
        (404, True, True),
        (409, True, True),
        (423, True, True),
        (422, False, False),  # unreadable or invalid input: fix it and reuse the key
        (403, False, False),  # the access decision refused: nothing was done
        (429, True, False),
        (500, True, False),
        (503, True, False),
    ],
)
def test_keeps_answers_of_operations_that_ran_except_server_failures_and_rate_limits(
    status: int, performed: bool, kept: bool
) -> None:
    assert worth_keeping(status, performed=performed) is kept


def _record(claim: str = "first", *, claimed_at: datetime = NOW, answered: bool = False) -> KeyRecord:
    return KeyRecord(
        fingerprint=fingerprint(SECRET, "POST", "/p", b"{}"),
        claim=claim,
        claimed_at=claimed_at,
        created_at=claimed_at,
        answer=Answer(201, (("content-type", "application/json"),), b"{}") if answered else None,
    )


def test_the_claimant_proceeds_an_answered_key_replays_and_a_live_claim_is_waited_for() -> None:
    request = fingerprint(SECRET, "POST", "/p", b"{}")
    assert next_step(_record("mine"), request, "mine", NOW) is Next.PROCEED
    assert next_step(_record(answered=True), request, "mine", NOW) is Next.REPLAY
    assert next_step(_record(), request, "mine", NOW + timedelta(seconds=5)) is Next.WAIT


def test_a_claim_unanswered_for_a_minute_is_taken_over_by_the_clock_or_by_watching_it() -> None:
    request = fingerprint(SECRET, "POST", "/p", b"{}")
    assert next_step(_record(), request, "mine", NOW + CLAIM_STALE_AFTER) is Next.TAKE_OVER
    assert next_step(_record(), request, "mine", NOW, waited=CLAIM_STALE_AFTER) is Next.TAKE_OVER
    assert next_step(_record(answered=True), request, "mine", NOW + CLAIM_STALE_AFTER) is Next.REPLAY


def test_another_request_with_the_key_is_refused_whether_answered_or_in_flight() -> None:
    other = fingerprint(SECRET, "POST", "/p", b'{"x":1}')
    for record in (_record(), _record(answered=True)):
        with pytest.raises(IdempotencyKeyReused) as refused:
            next_step(record, other, "mine", NOW)
        assert refused.value.code == "idempotency_key_reused"

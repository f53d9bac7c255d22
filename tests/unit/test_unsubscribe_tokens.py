"""One-click unsubscribe tokens (plugins/mail/unsubscribe.py): they name one tenant, user and
kind; any change to what they name, or a key the ring does not hold, makes them worthless."""

from __future__ import annotations

import base64
import json

from plugins.identity.keys import SigningKey, SigningKeys
from plugins.mail.unsubscribe import Unsubscribe, UnsubscribeTokens

RING = SigningKeys((SigningKey("k2", "s" * 43), SigningKey("k1", "o" * 43)))


def _payload(named: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(named, separators=(",", ":")).encode()).rstrip(b"=").decode()


def test_a_token_reads_back_as_the_tenant_user_and_kind_it_names() -> None:
    tokens = UnsubscribeTokens(RING, "https://stint.test/")
    token = tokens.issue("t1", "u1", "missing_time")
    assert tokens.read(token) == Unsubscribe("t1", "u1", "missing_time")
    assert tokens.link("t1", "u1", "missing_time") == f"https://stint.test/unsubscribe?token={token}"


def test_a_token_whose_payload_is_changed_to_another_kind_user_or_tenant_is_refused() -> None:
    tokens = UnsubscribeTokens(RING)
    kid, _, mac = tokens.issue("t1", "u1", "missing_time").split(".")
    for named in (["t1", "u1", "approvals"], ["t1", "u2", "missing_time"], ["t2", "u1", "missing_time"]):
        assert tokens.read(f"{kid}.{_payload(named)}.{mac}") is None


def test_a_token_signed_with_a_key_outside_the_ring_or_malformed_is_refused() -> None:
    stranger = UnsubscribeTokens(SigningKeys((SigningKey("k2", "x" * 43),)))
    tokens = UnsubscribeTokens(RING)
    assert tokens.read(stranger.issue("t1", "u1", "missing_time")) is None
    for junk in ("", "a.b", "a.b.c.d", "k2.!!.??", f"k2.{_payload(['t1', 'u1'])}.x"):
        assert tokens.read(junk) is None


def test_a_token_signed_with_the_previous_key_still_works_after_a_rotation() -> None:
    before = UnsubscribeTokens(SigningKeys((SigningKey("k1", "o" * 43),)))
    token = before.issue("t1", "u1", "trial_ending")
    assert UnsubscribeTokens(RING).read(token) == Unsubscribe("t1", "u1", "trial_ending")


def test_a_validly_signed_token_for_a_kind_that_does_not_exist_is_refused() -> None:
    tokens = UnsubscribeTokens(RING)
    assert tokens.read(tokens.issue("t1", "u1", "everything")) is None

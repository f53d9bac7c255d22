"""Secret keys that rotate: access tokens name their key (``kid``), sealed DevOps tokens
too, and a ring holds the current key and the previous ones still accepted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from plugins.devops.sealing import PatSealer, UnreadableToken
from plugins.identity.keys import (
    LEGACY_KID,
    KeyRingError,
    SigningKey,
    SigningKeys,
    check_removable,
    create_key_file,
    parse_keys,
    read_key_file,
    remove_from_key_file,
    rotate_key_file,
    write_key_file,
)
from plugins.identity.tokens import TENANT_AUDIENCE, TokenError, TokenService

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
OLD = SigningKey("2026-01", "o" * 40)
NEW = SigningKey("2026-07", "n" * 40)
LEGACY = SigningKey(LEGACY_KID, "l" * 40)
CLAIMS = {"iss": "stint", "aud": TENANT_AUDIENCE, "sub": "u1", "tid": "t1", "jti": "j", "iat": 1,
          "exp": 2**40}


def service(*keys: SigningKey, file: Path | None = None) -> TokenService:
    return TokenService(SigningKeys(keys, file=file))


def issue(tokens: TokenService, **extra: str) -> str:
    token, _ = tokens.issue(subject="u1", audience=TENANT_AUDIENCE, tenant_id="t1", now=NOW, **extra)
    return token


def verify(tokens: TokenService, token: str) -> str:
    return tokens.verify(token, audience=TENANT_AUDIENCE, now=NOW + timedelta(minutes=1)).subject


def test_a_token_names_the_current_key_in_its_header() -> None:
    token = issue(service(NEW, OLD))
    assert jwt.get_unverified_header(token)["kid"] == NEW.kid


def test_after_a_rotation_a_token_signed_with_the_previous_key_is_still_good() -> None:
    """Nobody is signed out: the key the token names checks it."""
    before = issue(service(OLD))
    after = service(NEW, OLD)
    assert verify(after, before) == "u1"
    assert jwt.get_unverified_header(issue(after))["kid"] == NEW.kid


def test_a_token_signed_with_a_removed_key_is_refused() -> None:
    before = issue(service(OLD))
    with pytest.raises(TokenError, match="key this server does not accept"):
        verify(service(NEW), before)


def test_a_token_naming_an_unknown_key_is_refused_even_with_a_known_secret() -> None:
    """The kid picks the key; a token cannot make the server try the others."""
    forged = jwt.encode(
        CLAIMS,
        NEW.secret, algorithm="HS256", headers={"kid": "made-up"},
    )
    with pytest.raises(TokenError):
        verify(service(NEW, OLD), forged)


def test_a_token_naming_one_key_but_signed_with_another_is_refused() -> None:
    genuine = issue(service(OLD))
    swapped = jwt.encode(jwt.decode(genuine, options={"verify_signature": False}), OLD.secret,
                         algorithm="HS256", headers={"kid": NEW.kid})
    with pytest.raises(TokenError):
        verify(service(NEW, OLD), swapped)


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("kid", [7, None, ["2026-07"]])
def test_a_kid_that_is_not_a_string_is_refused(kid: object) -> None:
    # By hand: PyJWT will not write such a header, but a forger would.
    head = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_b64(CLAIMS)}"
    mac = hmac.new(NEW.secret.encode(), head.encode(), hashlib.sha256).digest()
    forged = f"{head}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(TokenError):
        verify(service(NEW), forged)


def _without_kid(secret: str) -> str:
    """A token as Stint issued them before keys had names."""
    return jwt.encode(
        {"iss": "stint", "aud": TENANT_AUDIENCE, "sub": "u1", "tid": "t1", "jti": "j",
         "iat": int(NOW.timestamp()), "exp": int((NOW + timedelta(minutes=15)).timestamp())},
        secret, algorithm="HS256",
    )


def test_a_token_without_a_kid_is_checked_with_the_legacy_key() -> None:
    old_style = _without_kid(LEGACY.secret)
    assert "kid" not in jwt.get_unverified_header(old_style)
    assert verify(service(NEW, LEGACY), old_style) == "u1"


def test_a_token_without_a_kid_is_refused_once_the_legacy_key_is_gone() -> None:
    with pytest.raises(TokenError):
        verify(service(NEW), _without_kid(LEGACY.secret))
    with pytest.raises(TokenError):
        verify(service(NEW, LEGACY), _without_kid(NEW.secret))


def test_an_access_token_carries_its_sign_in_as_sid() -> None:
    tokens = service(NEW)
    token = issue(tokens, session="family-1")
    assert jwt.decode(token, options={"verify_signature": False})["sid"] == "family-1"
    assert tokens.verify(token, audience=TENANT_AUDIENCE, now=NOW).family == "family-1"
    assert tokens.verify(issue(tokens), audience=TENANT_AUDIENCE, now=NOW).family is None


# The ring and its file ---------------------------------------------------------------------


def test_key_pairs_are_read_current_first() -> None:
    keys = parse_keys(f" {NEW.kid}:{NEW.secret} , {OLD.kid}:{OLD.secret}", source="STINT_SECRET_KEYS")
    assert keys == (NEW, OLD)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no key"),
        ("just-a-secret-without-a-kid-" + "x" * 40, "not kid:secret"),
        ("bad kid:" + "x" * 40, "not kid:secret"),
        ("k1:short", "at least 32"),
        (f"k1:{'x' * 40},k1:{'y' * 40}", "listed twice"),
    ],
)
def test_a_bad_key_list_is_refused_with_the_reason_and_never_the_secret(text: str, reason: str) -> None:
    with pytest.raises(KeyRingError, match=reason) as refused:
        parse_keys(text, source="STINT_SECRET_KEYS")
    assert "STINT_SECRET_KEYS" in str(refused.value)
    assert "x" * 20 not in str(refused.value) and "short" not in str(refused.value)


def test_a_key_never_shows_its_secret_in_its_repr() -> None:
    assert NEW.secret not in repr(NEW) and NEW.kid in repr(NEW)


def test_the_key_file_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "secret-keys"
    write_key_file(path, (NEW, OLD))
    assert read_key_file(path) == (NEW, OLD)
    assert path.stat().st_mode & 0o777 == 0o600


def test_rotating_the_file_puts_a_new_key_first_and_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "secret-keys"
    (tmp_path / "secret-key").write_text(LEGACY.secret)
    fresh = rotate_key_file(path, (LEGACY,), NOW)
    assert fresh.kid.startswith("20260701-") and len(fresh.secret) >= 32
    assert read_key_file(path) == (fresh, LEGACY)
    # The old single-key file is folded in, not left lying around.
    assert not (tmp_path / "secret-key").exists()


def test_only_a_previous_key_the_ring_holds_can_be_removed(tmp_path: Path) -> None:
    path = tmp_path / "secret-keys"
    write_key_file(path, (NEW, OLD))
    with pytest.raises(KeyRingError, match="current key"):
        check_removable((NEW, OLD), NEW.kid)
    with pytest.raises(KeyRingError, match="no key"):
        check_removable((NEW, OLD), "elsewhere")
    assert remove_from_key_file(path, (NEW, OLD), OLD.kid) == (NEW,)
    assert read_key_file(path) == (NEW,)


def test_a_process_reads_the_key_file_again_when_a_token_names_a_key_it_does_not_know(tmp_path: Path) -> None:
    """Another process started after ``stint keys rotate`` signs with the new key already."""
    path = tmp_path / "secret-keys"
    write_key_file(path, (OLD,))
    running = service(OLD, file=path)
    write_key_file(path, (NEW, OLD))
    restarted = service(*read_key_file(path), file=path)
    assert verify(running, issue(restarted)) == "u1"
    # From then on it signs with the new key too.
    assert jwt.get_unverified_header(issue(running))["kid"] == NEW.kid


def test_an_unknown_kid_reads_the_key_file_at_most_once_a_second(tmp_path: Path) -> None:
    path = tmp_path / "secret-keys"
    write_key_file(path, (OLD,))
    keys = SigningKeys((OLD,), file=path)
    assert keys.find("nobody") is None
    write_key_file(path, (NEW, OLD))
    assert keys.find(NEW.kid) is None  # read less than a second ago: not again yet
    keys._checked_at -= SigningKeys.RELOAD_EVERY_SECONDS
    assert keys.find(NEW.kid) == NEW


# Sealed DevOps tokens --------------------------------------------------------------------------


def test_a_sealed_token_names_its_key_and_opens_after_a_rotation() -> None:
    sealed = PatSealer(SigningKeys((OLD,))).seal("tenant-a", "pat-secret")
    assert sealed.startswith(f"v2:{OLD.kid}:") and "pat-secret" not in sealed
    rotated = PatSealer(SigningKeys((NEW, OLD)))
    assert rotated.unseal("tenant-a", sealed) == "pat-secret"
    assert not rotated.is_current(sealed)
    assert rotated.is_current(rotated.seal("tenant-a", "pat-secret"))


def test_a_token_sealed_with_a_removed_key_is_unreadable() -> None:
    sealed = PatSealer(SigningKeys((OLD,))).seal("tenant-a", "pat-secret")
    with pytest.raises(UnreadableToken):
        PatSealer(SigningKeys((NEW,))).unseal("tenant-a", sealed)


def test_a_token_sealed_before_keys_had_names_opens_with_any_key_of_the_ring() -> None:
    """``v1:`` tokens were sealed with the one key there was; whichever of the ring it is opens them."""
    v2 = PatSealer(SigningKeys((LEGACY,))).seal("tenant-a", "pat-secret")
    v1 = "v1:" + v2.split(":", 2)[2]
    assert PatSealer(SigningKeys((NEW, LEGACY))).unseal("tenant-a", v1) == "pat-secret"
    with pytest.raises(UnreadableToken):
        PatSealer(SigningKeys((NEW, OLD))).unseal("tenant-a", v1)


def test_of_two_processes_creating_the_key_file_at_once_the_first_wins_and_both_use_its_key(
    tmp_path: Path,
) -> None:
    path = tmp_path / "secret-keys"
    assert create_key_file(path, (NEW,)) == (NEW,)
    assert create_key_file(path, (OLD,)) == (NEW,)
    assert read_key_file(path) == (NEW,)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret-keys"]  # no temporary file left

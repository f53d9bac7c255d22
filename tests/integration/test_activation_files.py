"""Activation files signed and verified for real: Ed25519 JWTs through PyJWT (SPEC §7)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.activation.claims import ActivationRefused, ActivationState, RefusalReason
from plugins.activation import (
    decode_file,
    dev_key_path,
    generate_signing_key,
    issue_command,
    issue_file,
    key_id,
    load_public_keys,
    load_signing_key,
    private_key_pem,
    public_key_pem,
    shipped_public_keys,
    trusted_keys,
    trusted_keys_from_settings,
    verify_command,
    verify_file,
)
from plugins.activation.signing import TOKEN_TYPE

NOW = datetime(2026, 5, 9, 12, 0, 0, tzinfo=UTC)
SERVER = "SRV-ACME-1"
TAMPERED = (
    "This activation file was changed after it was issued: its signature does not match its "
    "contents. Ask support for a new file and upload it unchanged."
)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return generate_signing_key()


def trust(*keys: Ed25519PrivateKey) -> dict[str, Ed25519PublicKey]:
    return {key_id(k.public_key()): k.public_key() for k in keys}


def issue(key: Ed25519PrivateKey, now: datetime = NOW, **changes: object) -> str:
    fields: dict[str, object] = {
        "tenant": "acme",
        "server_id": SERVER,
        "plan_id": "team",
        "seats": 25,
        "expires_on": date(2027, 5, 9),
        "file_id": "file-1",
    }
    fields.update(changes)
    return issue_file(signing_key=key, now=now, **fields)  # type: ignore[arg-type]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def refused(text: str, trusted: dict[str, Ed25519PublicKey]) -> ActivationRefused:
    with pytest.raises(ActivationRefused) as caught:
        verify_file(text, trusted, SERVER, ActivationState(), NOW)
    return caught.value


def test_an_issued_file_verifies_and_installs(key: Ed25519PrivateKey) -> None:
    """A file signed with a trusted key round-trips into claims and an installed state."""
    claims, state = verify_file(issue(key), trust(key), SERVER, ActivationState(), NOW)
    assert (claims.tenant, claims.server_id, claims.plan_id, claims.seats) == (
        "acme",
        SERVER,
        "team",
        25,
    )
    assert (claims.period_start, claims.expires_on) == (date(2026, 5, 9), date(2027, 5, 9))
    assert claims.issued_at == NOW
    assert claims.file_id == "file-1"
    assert claims.key_id == key_id(key.public_key())
    assert state == ActivationState(installed=claims, issued_at_high_water=NOW)


def test_the_token_header_pins_eddsa_and_names_type_and_key(key: Ed25519PrivateKey) -> None:
    """The header says EdDSA, the activation token type and the signing key's id."""
    header = jwt.get_unverified_header(issue(key))
    assert header == {"alg": "EdDSA", "typ": TOKEN_TYPE, "kid": key_id(key.public_key())}


def test_the_key_id_is_derived_from_the_public_key(key: Ed25519PrivateKey) -> None:
    """The key id is the first 16 hex digits of SHA-256 over the raw public key."""
    raw = key.public_key().public_bytes_raw()
    assert key_id(key.public_key()) == hashlib.sha256(raw).hexdigest()[:16]


def test_a_flipped_character_in_the_payload_is_tampered(key: Ed25519PrivateKey) -> None:
    """Changing one character in the middle of the payload breaks the signature."""
    header, payload, signature = issue(key).split(".")
    middle = len(payload) // 2
    flipped = "A" if payload[middle] != "A" else "B"
    text = f"{header}.{payload[:middle]}{flipped}{payload[middle + 1 :]}.{signature}"
    error = refused(text, trust(key))
    assert error.reason is RefusalReason.TAMPERED
    assert error.detail == TAMPERED


def test_raising_the_seats_in_the_payload_is_tampered(key: Ed25519PrivateKey) -> None:
    """A well-formed payload with more seats, under the original signature, is refused."""
    header, payload, signature = issue(key).split(".")
    claims = json.loads(unb64(payload))
    claims["seats"] = 500
    text = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    assert refused(text, trust(key)).reason is RefusalReason.TAMPERED


def test_a_damaged_signature_is_tampered(key: Ed25519PrivateKey) -> None:
    """A signature of the wrong length or content is refused as tampered."""
    header, payload, signature = issue(key).split(".")
    assert refused(f"{header}.{payload}.{signature[:-4]}", trust(key)).reason == "tampered"
    assert refused(f"{header}.{payload}.{b64(bytes(64))}", trust(key)).reason == "tampered"


def test_a_file_signed_by_an_untrusted_key_is_wrong_key(key: Ed25519PrivateKey) -> None:
    """A genuine signature by a key the server does not trust is refused as wrong_key."""
    stranger = generate_signing_key()
    error = refused(issue(stranger), trust(key))
    assert error.reason is RefusalReason.WRONG_KEY
    assert error.detail == (
        f"This activation file was signed with a key this server does not trust "
        f"(key id {key_id(stranger.public_key())}). Ask support for a file signed with a "
        f"current Stint key, or update Stint if the file was signed with a newer key."
    )


def test_another_key_posing_under_a_trusted_key_id_is_tampered(key: Ed25519PrivateKey) -> None:
    """A forger who copies a trusted kid into the header fails the signature check."""
    forger = generate_signing_key()
    payload = jwt.decode(issue(key), options={"verify_signature": False})
    headers = {"typ": TOKEN_TYPE, "kid": key_id(key.public_key())}
    text = jwt.encode(payload, forger, algorithm="EdDSA", headers=headers)
    assert refused(text, trust(key)).reason is RefusalReason.TAMPERED


def test_alg_none_is_refused(key: Ed25519PrivateKey) -> None:
    """A header switched to alg none with the signature dropped is never accepted."""
    _, payload, _ = issue(key).split(".")
    header = {"alg": "none", "typ": TOKEN_TYPE, "kid": key_id(key.public_key())}
    text = f"{b64(json.dumps(header).encode())}.{payload}."
    assert refused(text, trust(key)).reason in {RefusalReason.TAMPERED, RefusalReason.MALFORMED}


def test_hs256_signed_with_the_public_key_is_refused(key: Ed25519PrivateKey) -> None:
    """The classic key-confusion forgery (HMAC keyed with the public key) is refused."""
    _, payload, _ = issue(key).split(".")
    header = {"alg": "HS256", "typ": TOKEN_TYPE, "kid": key_id(key.public_key())}
    signing_input = f"{b64(json.dumps(header).encode())}.{payload}"
    secret = public_key_pem(key.public_key()).encode()
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    text = f"{signing_input}.{b64(mac)}"
    assert refused(text, trust(key)).reason in {RefusalReason.TAMPERED, RefusalReason.MALFORMED}


@pytest.mark.parametrize(
    "text",
    ["", "hello", "a.b.c", "not a token at all\n", "eyJhbGciOiJFZERTQSJ9.e30.AAAA"],
)
def test_garbage_is_malformed(text: str, key: Ed25519PrivateKey) -> None:
    """Text that is not a Stint activation token is refused as malformed, never a crash."""
    assert refused(text, trust(key)).reason is RefusalReason.MALFORMED


def test_a_genuine_token_of_another_type_is_malformed(key: Ed25519PrivateKey) -> None:
    """A JWT signed by a trusted key but not typed as an activation file is refused."""
    text = jwt.encode({"seats": 5}, key, algorithm="EdDSA")
    assert refused(text, trust(key)).reason is RefusalReason.MALFORMED


def test_an_expired_file_is_refused(key: Ed25519PrivateKey) -> None:
    """A genuine file past its expiry day is refused as expired, not as a bad token."""
    text = issue(key, expires_on=date(2026, 6, 1))
    with pytest.raises(ActivationRefused) as caught:
        verify_file(text, trust(key), SERVER, ActivationState(), datetime(2026, 6, 1, tzinfo=UTC))
    assert caught.value.reason is RefusalReason.EXPIRED


def test_a_file_for_another_server_is_refused(key: Ed25519PrivateKey) -> None:
    """A genuine file for another server is refused naming both servers."""
    error = refused(issue(key, server_id="SRV-OTHER"), trust(key))
    assert error.reason is RefusalReason.OTHER_SERVER
    assert "issued for server SRV-OTHER, not for this server (SRV-ACME-1)" in error.detail


def test_a_newer_file_replaces_and_the_older_is_then_refused(key: Ed25519PrivateKey) -> None:
    """Signed files follow the replacement rule: newer wins, older is refused afterwards."""
    older = issue(key)
    newer = issue(key, now=NOW + timedelta(minutes=1), file_id="file-2", seats=30)
    _, state = verify_file(older, trust(key), SERVER, ActivationState(), NOW)
    claims, state = verify_file(newer, trust(key), SERVER, state, NOW + timedelta(minutes=2))
    assert state.installed == claims and claims.seats == 30
    with pytest.raises(ActivationRefused) as caught:
        verify_file(older, trust(key), SERVER, state, NOW + timedelta(minutes=3))
    assert caught.value.reason is RefusalReason.OLDER_THAN_INSTALLED


def test_issuing_refuses_an_expiry_that_is_not_in_the_future(key: Ed25519PrivateKey) -> None:
    """An operator cannot issue a file that would be dead on arrival."""
    with pytest.raises(Exception, match="must be after today"):
        issue(key, expires_on=NOW.date())


def test_keys_load_from_pem_text_escaped_text_and_files(key: Ed25519PrivateKey, tmp_path: Path) -> None:
    """Settings accept PEM text, one-line PEM with \\n escapes, or a path to a PEM file."""
    pem = private_key_pem(key)
    path = tmp_path / "signing.pem"
    path.write_text(pem)
    for setting in (pem, pem.replace("\n", "\\n"), str(path)):
        assert key_id(load_signing_key(setting).public_key()) == key_id(key.public_key())


def test_several_public_keys_load_from_one_concatenated_file(tmp_path: Path) -> None:
    """STINT_ACTIVATION_PUBLIC_KEYS may hold several PEM blocks back to back."""
    first, second = generate_signing_key(), generate_signing_key()
    path = tmp_path / "extra.pem"
    path.write_text(public_key_pem(first.public_key()) + public_key_pem(second.public_key()))
    assert set(load_public_keys(str(path))) == set(trust(first, second))


def test_a_bad_key_setting_is_a_validation_error_naming_the_setting(tmp_path: Path) -> None:
    """A missing file or a non-key value is reported with the setting's name."""
    with pytest.raises(Exception, match="STINT_ACTIVATION_SIGNING_KEY is neither PEM text"):
        load_signing_key(str(tmp_path / "missing.pem"))
    with pytest.raises(Exception, match="STINT_ACTIVATION_PUBLIC_KEYS holds no PEM public key"):
        load_public_keys("-----BEGIN nothing")


def test_the_shipped_product_key_is_trusted_by_default() -> None:
    """The stint-2026 public key ships in the package and is trusted with no settings."""
    shipped = shipped_public_keys()
    pem = (Path(__file__).parents[2] / "plugins" / "activation" / "keys" / "stint-2026.pub.pem").read_text()
    assert list(shipped) == list(load_public_keys(pem))
    assert set(shipped) <= set(trusted_keys(None))


def test_extra_trusted_keys_add_to_the_shipped_ones(key: Ed25519PrivateKey) -> None:
    """A key from STINT_ACTIVATION_PUBLIC_KEYS is trusted beside the shipped keys."""
    keys = trusted_keys(public_key_pem(key.public_key()))
    assert set(keys) == set(shipped_public_keys()) | set(trust(key))


def test_the_dev_key_is_created_once_and_trusted_only_when_switched_on(tmp_path: Path) -> None:
    """Issuing without a signing key makes one dev key; verification trusts it only on request."""
    out = tmp_path / "a.activation"
    summary = issue_command("acme", SERVER, "team", 5, date(2027, 1, 1), out, None, tmp_path, now=NOW)
    assert "WARNING: signed with the development key" in summary
    first = dev_key_path(tmp_path).read_text()
    issue_command("acme", SERVER, "team", 5, date(2027, 1, 1), out, None, tmp_path, now=NOW)
    assert dev_key_path(tmp_path).read_text() == first
    assert dev_key_path(tmp_path).stat().st_mode & 0o077 == 0
    dev_kid = key_id(load_signing_key(first).public_key())
    off = trusted_keys_from_settings(None, trust_dev_key=False, data_dir=tmp_path)
    on = trusted_keys_from_settings(None, trust_dev_key=True, data_dir=tmp_path)
    assert dev_kid not in off
    assert dev_kid in on


def test_verify_command_prints_what_the_file_grants(tmp_path: Path) -> None:
    """A valid file verifies with exit-ok and every granted fact printed."""
    signing = generate_signing_key()
    out = tmp_path / "acme.activation"
    issue_command(
        "acme",
        SERVER,
        "team",
        25,
        date(2027, 5, 9),
        out,
        private_key_pem(signing),
        tmp_path,
        now=NOW,
    )
    ok, message = verify_command(out, SERVER, public_key_pem(signing.public_key()), NOW)
    claims = decode_file(out.read_text(), trust(signing))
    assert ok
    assert message == (
        f"Activation file {out} is valid. It grants:\n"
        "  tenant:     acme\n"
        "  server:     SRV-ACME-1 (matches --server-id)\n"
        "  plan:       team\n"
        "  seats:      25\n"
        "  period:     2026-05-09 to 2027-05-09 (valid through 2027-05-08)\n"
        "  expires on: 2027-05-09\n"
        "  issued at:  2026-05-09 12:00:00 UTC\n"
        f"  file id:    {claims.file_id}\n"
        f"  key id:     {key_id(signing.public_key())}"
    )


def test_verify_command_without_a_server_id_says_the_server_was_not_checked(
    tmp_path: Path,
) -> None:
    """Without --server-id every other rule is checked and the output says so."""
    signing = generate_signing_key()
    out = tmp_path / "f"
    out.write_text(issue(signing) + "\n")
    ok, message = verify_command(out, None, public_key_pem(signing.public_key()), NOW)
    assert ok
    assert "  server:     SRV-ACME-1 (not checked: no --server-id)" in message


def test_verify_command_reports_the_exact_refusal(tmp_path: Path) -> None:
    """A refused file gives not-ok and the reason code with its exact message."""
    signing = generate_signing_key()
    out = tmp_path / "f"
    out.write_text(issue(signing, server_id="SRV-OTHER"))
    ok, message = verify_command(out, SERVER, public_key_pem(signing.public_key()), NOW)
    assert not ok
    assert message == (
        "Refused (other_server): This activation file was issued for server SRV-OTHER, "
        "not for this server (SRV-ACME-1)."
    )


def test_verify_command_hints_when_the_untrusted_key_is_the_dev_key(tmp_path: Path) -> None:
    """A dev-signed file on a server without dev trust explains how to switch it on."""
    out = tmp_path / "dev.activation"
    issue_command("acme", SERVER, "team", 5, date(2027, 1, 1), out, None, tmp_path, now=NOW)
    ok, message = verify_command(out, SERVER, None, NOW, data_dir=tmp_path)
    assert not ok
    assert message.startswith("Refused (wrong_key): ")
    assert message.endswith("trusted only when STINT_ACTIVATION_TRUST_DEV_KEY=1.")
    ok, _ = verify_command(out, SERVER, None, NOW, trust_dev_key=True, data_dir=tmp_path)
    assert ok


def test_verify_command_reports_an_unreadable_file(tmp_path: Path) -> None:
    """A missing file is a clear not-ok, not a traceback."""
    ok, message = verify_command(tmp_path / "missing", SERVER, None, NOW)
    assert not ok
    assert message.startswith(f"Cannot read activation file {tmp_path / 'missing'}")

"""Ed25519 keys and the signed token (a JWT) that an activation file holds.

Header: ``alg`` EdDSA, ``typ`` ``stint-activation+jwt``, ``kid`` derived from the
public key. Verification pins the algorithm, finds the key by ``kid`` among the
trusted keys and maps every failure to a refusal reason. Expiry and the other time
rules are not checked here: :func:`core.activation.claims.accept` does them, so
each refusal keeps its own reason.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.utils import base64url_decode

from core.activation.claims import ActivationRefused
from core.errors import ValidationFailed

__all__ = [
    "ALGORITHM",
    "TOKEN_TYPE",
    "TrustedKeys",
    "decode_token",
    "encode_token",
    "generate_signing_key",
    "key_id",
    "load_public_keys",
    "load_signing_key",
    "private_key_pem",
    "public_key_pem",
    "shipped_public_keys",
    "trusted_keys",
]

ALGORITHM = "EdDSA"
TOKEN_TYPE = "stint-activation+jwt"
#: Trusted public keys by key id.
TrustedKeys = Mapping[str, Ed25519PublicKey]

_PUBLIC_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", re.DOTALL)


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key's id: the first 16 hex digits of SHA-256 over its raw 32 bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _pem_text(setting: str, name: str) -> str:
    """PEM text given inline (``\\n`` escapes allowed, as in one-line env values) or by path."""
    if "-----BEGIN" in setting:
        return setting.replace("\\n", "\n")
    path = Path(setting).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationFailed(
            f"{name} is neither PEM text nor a readable file ({path}: {error})", field=name
        ) from None


def load_signing_key(setting: str, name: str = "STINT_ACTIVATION_SIGNING_KEY") -> Ed25519PrivateKey:
    """The Ed25519 private key in ``setting`` (PEM text or a file path)."""
    text = _pem_text(setting, name)
    try:
        key = serialization.load_pem_private_key(text.encode("utf-8"), password=None)
    except (ValueError, TypeError) as error:
        raise ValidationFailed(
            f"{name} does not hold an unencrypted PEM private key ({error})", field=name
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationFailed(
            f"{name} holds a {type(key).__name__}; activation files need an Ed25519 key",
            field=name,
        )
    return key


def load_public_keys(setting: str, name: str = "STINT_ACTIVATION_PUBLIC_KEYS") -> dict[str, Ed25519PublicKey]:
    """Every Ed25519 public key in ``setting`` (PEM text or a file path, blocks concatenated)."""
    blocks = _PUBLIC_BLOCK.findall(_pem_text(setting, name))
    if not blocks:
        raise ValidationFailed(f"{name} holds no PEM public key", field=name)
    keys: dict[str, Ed25519PublicKey] = {}
    for block in blocks:
        try:
            key = serialization.load_pem_public_key(block.encode("utf-8"))
        except ValueError as error:
            raise ValidationFailed(f"{name} has an unreadable public key ({error})", field=name) from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValidationFailed(
                f"{name} holds a {type(key).__name__}; only Ed25519 keys are accepted",
                field=name,
            )
        keys[key_id(key)] = key
    return keys


def shipped_public_keys() -> dict[str, Ed25519PublicKey]:
    """The keys Stint ships with (``plugins/activation/keys/*.pub.pem``), trusted by default."""
    keys: dict[str, Ed25519PublicKey] = {}
    folder = resources.files("plugins.activation.keys")
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".pub.pem"):
            keys.update(load_public_keys(entry.read_text(encoding="utf-8"), entry.name))
    return keys


def trusted_keys(
    extra_setting: str | None = None, *, dev_key: Ed25519PublicKey | None = None
) -> dict[str, Ed25519PublicKey]:
    """Shipped keys, plus those in STINT_ACTIVATION_PUBLIC_KEYS, plus a dev key if given."""
    keys = shipped_public_keys()
    if extra_setting:
        keys.update(load_public_keys(extra_setting))
    if dev_key is not None:
        keys[key_id(dev_key)] = dev_key
    return keys


def encode_token(payload: Mapping[str, object], signing_key: Ed25519PrivateKey) -> str:
    """``payload`` as a JWT signed with ``signing_key``, naming its key id in the header."""
    headers = {"typ": TOKEN_TYPE, "kid": key_id(signing_key.public_key())}
    return jwt.encode(dict(payload), signing_key, algorithm=ALGORITHM, headers=headers)


def decode_token(text: str, trusted: TrustedKeys) -> tuple[dict[str, object], str]:
    """The verified payload and key id of ``text``, or :class:`ActivationRefused` saying why not."""
    token = text.strip()
    header = _read_header(token)
    if header.get("typ") != TOKEN_TYPE:
        raise ActivationRefused.malformed(f"its type is {header.get('typ')!r}, not {TOKEN_TYPE}")
    # Our files are always EdDSA with a key id; anything else was edited after signing.
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str) or not kid:
        raise ActivationRefused.tampered()
    public_key = trusted.get(kid)
    if public_key is None:
        raise ActivationRefused.wrong_key(kid)
    try:
        # JWS level on purpose: the signature is all PyJWT checks here, with the
        # algorithm pinned; the claims (and expiry) are read by the pure core.
        verified = jwt.PyJWS().decode_complete(token, key=public_key, algorithms=[ALGORITHM])
    except (jwt.PyJWTError, ValueError, TypeError):
        raise ActivationRefused.tampered() from None
    try:
        payload = json.loads(verified["payload"])
    except (ValueError, RecursionError):
        raise ActivationRefused.malformed("its contents are not JSON") from None
    if not isinstance(payload, dict):
        raise ActivationRefused.malformed("its contents are not a JSON object")
    return payload, kid


def _read_header(token: str) -> dict[str, object]:
    """The unverified header, read alone: damage elsewhere is tampering, not garbage."""
    segments = token.split(".")
    try:
        if len(segments) != 3:
            raise ValueError("not three segments")
        header = json.loads(base64url_decode(segments[0]))
    except (ValueError, TypeError, RecursionError, binascii.Error):
        raise ActivationRefused.malformed("it is not a signed token") from None
    if not isinstance(header, dict):
        raise ActivationRefused.malformed("it is not a signed token")
    return header

"""The development signing key: lets a fresh checkout issue and verify files with no setup.

Without ``STINT_ACTIVATION_SIGNING_KEY``, ``stint activation issue`` signs with a key
generated once into the data directory (``.stint/activation-dev-key.pem``). Servers
trust that key only when ``STINT_ACTIVATION_TRUST_DEV_KEY`` is on: a production server
never trusts a random key it happens to find on disk.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from plugins.activation.signing import (
    generate_signing_key,
    load_signing_key,
    private_key_pem,
    trusted_keys,
)

__all__ = [
    "DEV_KEY_FILENAME",
    "dev_key_path",
    "dev_key_trusted",
    "dev_public_key",
    "load_or_create_dev_key",
    "signing_key_from_setting",
    "trusted_keys_from_settings",
]

DEV_KEY_FILENAME = "activation-dev-key.pem"
_ON = {"1", "true", "yes", "on"}


def dev_key_trusted(value: str | None) -> bool:
    """Whether a STINT_ACTIVATION_TRUST_DEV_KEY value switches trust on (1/true/yes/on)."""
    return (value or "").strip().lower() in _ON


def dev_key_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / DEV_KEY_FILENAME


def load_or_create_dev_key(data_dir: Path | str) -> Ed25519PrivateKey:
    """The development key in ``data_dir``, generated (readable by the owner only) if missing."""
    path = dev_key_path(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(private_key_pem(generate_signing_key()))
        try:
            # A hard link never overwrites: if two processes race, the first key wins.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return load_signing_key(str(path), name=str(path))


def dev_public_key(data_dir: Path | str) -> Ed25519PublicKey | None:
    """The development key's public half if one exists; never creates one."""
    path = dev_key_path(data_dir)
    if not path.is_file():
        return None
    return load_signing_key(str(path), name=str(path)).public_key()


def signing_key_from_setting(setting: str | None, data_dir: Path | str) -> tuple[Ed25519PrivateKey, bool]:
    """The key to issue with and whether it is the development key."""
    if setting:
        return load_signing_key(setting), False
    return load_or_create_dev_key(data_dir), True


def trusted_keys_from_settings(
    public_keys_setting: str | None, *, trust_dev_key: bool, data_dir: Path | str | None
) -> dict[str, Ed25519PublicKey]:
    """Shipped keys, STINT_ACTIVATION_PUBLIC_KEYS, and the dev key only if trust is on."""
    dev = dev_public_key(data_dir) if trust_dev_key and data_dir is not None else None
    return trusted_keys(public_keys_setting, dev_key=dev)

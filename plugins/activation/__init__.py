"""Offline activation files: Ed25519-signed JWTs verified with keys shipped in the product.

The acceptance rules are pure and live in :mod:`core.activation.claims`; this
package signs, verifies signatures, manages keys and backs the ``stint activation``
commands. See ``docs/activation.md``.
"""

from plugins.activation.commands import issue_command, verify_command
from plugins.activation.devkey import (
    dev_key_path,
    dev_key_trusted,
    load_or_create_dev_key,
    signing_key_from_setting,
    trusted_keys_from_settings,
)
from plugins.activation.files import decode_file, issue_file, verify_file
from plugins.activation.reader import SettingsFileReader
from plugins.activation.signing import (
    TrustedKeys,
    generate_signing_key,
    key_id,
    load_public_keys,
    load_signing_key,
    private_key_pem,
    public_key_pem,
    shipped_public_keys,
    trusted_keys,
)

__all__ = [
    "SettingsFileReader",
    "TrustedKeys",
    "decode_file",
    "dev_key_path",
    "dev_key_trusted",
    "generate_signing_key",
    "issue_command",
    "issue_file",
    "key_id",
    "load_or_create_dev_key",
    "load_public_keys",
    "load_signing_key",
    "private_key_pem",
    "public_key_pem",
    "shipped_public_keys",
    "signing_key_from_setting",
    "trusted_keys",
    "trusted_keys_from_settings",
    "verify_command",
    "verify_file",
]

"""The server side's file reader: the trusted keys as the settings say, read at each upload."""

from __future__ import annotations

from pathlib import Path

from core.activation.claims import ActivationClaims
from plugins.activation.devkey import trusted_keys_from_settings
from plugins.activation.files import decode_file

__all__ = ["SettingsFileReader"]


class SettingsFileReader:
    """Shipped keys, ``STINT_ACTIVATION_PUBLIC_KEYS``, and the dev key only if trusted.

    Keys are loaded per file (uploads are rare), so a key added to the settings file or a
    dev key created later needs no restart.
    """

    def __init__(self, public_keys_setting: str | None, *, trust_dev_key: bool, data_dir: Path | str) -> None:
        self.public_keys_setting = public_keys_setting
        self.trust_dev_key = trust_dev_key
        self.data_dir = data_dir

    def decode(self, text: str) -> ActivationClaims:
        keys = trusted_keys_from_settings(
            self.public_keys_setting, trust_dev_key=self.trust_dev_key, data_dir=self.data_dir
        )
        return decode_file(text, keys)

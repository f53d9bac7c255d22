"""The parsing and checking of settings' raw values (``plugins/settings.py`` reads them):
the ``.env`` file, whole numbers in a range, the database URL, the licence service's URL
and proxy, trusted proxy networks, on/off switches, and the secret key ring — each refusal
a :class:`SettingsError` naming the variable and saying why."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlparse

from .identity.keys import (
    KEYS_FILE,
    LEGACY_FILE,
    LEGACY_KID,
    MIN_SECRET_LENGTH,
    KeyRingError,
    SigningKey,
    create_key_file,
    new_key,
    parse_keys,
    read_key_file,
)

__all__ = [
    "SettingsError",
    "bounded_int",
    "checked_database_url",
    "is_on",
    "key_ring",
    "licence_url",
    "networks",
    "off_unless_said",
    "proxy_url",
    "read_dotenv",
]


class SettingsError(ValueError):
    """A setting has a value Stint cannot use; the message names it and says why."""


def read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def bounded_int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} must be between {low} and {high}")
    return value


def checked_database_url(raw: str) -> str:
    if raw.startswith("sqlite:///"):
        if not raw.removeprefix("sqlite:///"):
            raise SettingsError("STINT_DATABASE_URL sqlite:/// needs a file path")
        return raw
    if raw.startswith(("postgres://", "postgresql://")):
        parsed = urlparse(raw)
        if not parsed.hostname and "host=" not in (parsed.query or ""):
            raise SettingsError(f"STINT_DATABASE_URL {raw!r} has no host")
        return raw
    raise SettingsError(
        f"STINT_DATABASE_URL {raw!r} is neither sqlite:///PATH nor postgres://HOST/DB"
    )


def key_ring(
    many: str | None, one: str | None, data_dir: Path
) -> tuple[tuple[SigningKey, ...], Path | None, str]:
    """The key ring, the file it lives in (None: the environment) and where it was read
    from; see ``identity/keys.py``."""
    if many and one:
        raise SettingsError(
            "set STINT_SECRET_KEYS or STINT_SECRET_KEY, not both: to keep the old key accepted, "
            f"list it as {LEGACY_KID}:<old key> after the new one in STINT_SECRET_KEYS"
        )
    path = data_dir / KEYS_FILE
    try:
        if many:
            return parse_keys(many, source="STINT_SECRET_KEYS"), None, "STINT_SECRET_KEYS"
        if one:
            if len(one) < MIN_SECRET_LENGTH:
                raise SettingsError(f"STINT_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
            return (SigningKey(LEGACY_KID, one),), None, "STINT_SECRET_KEY"
        if path.is_file():
            return read_key_file(path), path, str(path)
    except KeyRingError as exc:
        raise SettingsError(str(exc)) from None
    # The single generated key of installations made before keys had names; the first
    # ``stint keys rotate`` moves it into the key file.
    legacy = data_dir / LEGACY_FILE
    if legacy.is_file():
        return (SigningKey(LEGACY_KID, legacy.read_text(encoding="utf-8").strip()),), path, str(legacy)
    # A generated key kept on disk: tokens stay valid across restarts of one machine.
    try:
        return create_key_file(path, (new_key(),)), path, str(path)
    except KeyRingError as exc:
        raise SettingsError(str(exc)) from None


def is_on(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def off_unless_said(name: str, value: str | None) -> bool:
    """A setting that is on by default; only an explicit 0/false/no/off turns it off."""
    if value is None:
        return True
    lowered = value.strip().lower()
    if lowered in {"0", "false", "no", "off"}:
        return False
    if lowered in {"1", "true", "yes", "on"}:
        return True
    raise SettingsError(f"{name}={value!r} is neither on (1/true/yes/on) nor off (0/false/no/off)")


def licence_url(value: str | None) -> str | None:
    """HTTPS, or plain HTTP to this machine only: an entitlement must not cross a network in clear."""
    if not value:
        return None
    parsed = urlparse(value)
    loopback = parsed.hostname in {"127.0.0.1", "localhost", "::1"}
    if parsed.scheme != "https" and not (parsed.scheme == "http" and loopback):
        raise SettingsError(
            f"STINT_LICENCE_SERVICE_URL={value!r} must be an https:// URL (http:// only for 127.0.0.1)"
        )
    return value.rstrip("/")


def proxy_url(value: str | None) -> str | None:
    if value and urlparse(value).scheme not in ("http", "https"):
        raise SettingsError(f"STINT_LICENCE_SERVICE_PROXY={value!r} must be an http(s):// proxy URL")
    return value


def networks(value: str | None) -> tuple[str, ...]:
    entries = tuple(e.strip() for e in (value or "").split(",") if e.strip())
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"STINT_TRUSTED_PROXIES entry {entry!r} is neither an IP address nor a network (CIDR)"
            ) from None
    return entries

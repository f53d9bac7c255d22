"""The secret keys Stint signs with: the current one and the previous ones still accepted.

Access tokens name their key in the JWT header (``kid``); sealed DevOps tokens and CSRF
cookies are checked against every key of the ring. Rotating adds a new current key and
keeps the old ones, so nobody is signed out and nothing sealed becomes unreadable;
removing a key is a separate step, once what it signed has expired or been re-sealed.

Where the keys come from (``plugins/settings.py`` reads them, first found wins):

1. ``STINT_SECRET_KEYS``: comma-separated ``kid:secret`` pairs, the current key first;
2. ``STINT_SECRET_KEY``: one secret, known as the key ``legacy`` (what it always was);
3. the key file ``<data dir>/secret-keys``: one ``kid:secret`` a line, current first,
   written by ``stint keys rotate``; created on the first start when nothing is set;
4. the single generated key of older installations, ``<data dir>/secret-key`` (``legacy``).

A token without a ``kid`` was issued before keys had names: it is checked with the key
``legacy`` and refused when the ring has none.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "KEYS_FILE",
    "LEGACY_FILE",
    "LEGACY_KID",
    "KeyRingError",
    "SigningKey",
    "SigningKeys",
    "check_removable",
    "create_key_file",
    "new_key",
    "parse_keys",
    "read_key_file",
    "remove_from_key_file",
    "rotate_key_file",
    "write_key_file",
]

log = logging.getLogger("stint.keys")

#: The name of a key that was configured without one (``STINT_SECRET_KEY``, the old key file).
LEGACY_KID = "legacy"
KEYS_FILE = "secret-keys"
LEGACY_FILE = "secret-key"
MIN_SECRET_LENGTH = 32
_KID = re.compile(r"[A-Za-z0-9._-]{1,40}")


class KeyRingError(ValueError):
    """A key list Stint cannot use; the message says where and why (never the secret)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    #: Kept out of the repr: keys reach logs and tracebacks through their holders.
    secret: str = field(repr=False)


def parse_keys(text: str, *, source: str, separator: str = ",") -> tuple[SigningKey, ...]:
    """``kid:secret`` pairs (the current key first) as keys, or :class:`KeyRingError` naming ``source``."""
    keys: list[SigningKey] = []
    for n, raw in enumerate(text.split(separator), start=1):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        kid, sep, secret = entry.partition(":")
        kid, secret = kid.strip(), secret.strip()
        if not sep or not _KID.fullmatch(kid):
            raise KeyRingError(
                f"{source}: entry {n} is not kid:secret (a kid is 1-40 letters, digits, '.', '_' or '-')"
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise KeyRingError(
                f"{source}: the secret of key {kid!r} must be at least {MIN_SECRET_LENGTH} characters"
            )
        if any(key.kid == kid for key in keys):
            raise KeyRingError(f"{source}: the key {kid!r} is listed twice")
        keys.append(SigningKey(kid, secret))
    if not keys:
        raise KeyRingError(f"{source}: no key (kid:secret, the current key first)")
    return tuple(keys)


def new_key(now: datetime | None = None) -> SigningKey:
    """A fresh random key named after the day it was made (and a random tail, so two a day differ)."""
    day = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return SigningKey(f"{day}-{secrets.token_hex(3)}", secrets.token_urlsafe(48))


def read_key_file(path: Path) -> tuple[SigningKey, ...]:
    return parse_keys(path.read_text(encoding="utf-8"), source=str(path), separator="\n")


def _written(path: Path, keys: tuple[SigningKey, ...]) -> Path:
    """A private temporary file beside ``path`` holding ``keys``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "# Stint's secret keys: kid:secret, the current key first. Keep this file private.\n"
    body += "".join(f"{key.kid}:{key.secret}\n" for key in keys)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(body)
        out.flush()
        os.fsync(out.fileno())
    return temporary


def write_key_file(path: Path, keys: tuple[SigningKey, ...]) -> None:
    """Replace the key file in one step (another process reading it sees the old or the new ring)."""
    os.replace(_written(path, keys), path)


def create_key_file(path: Path, keys: tuple[SigningKey, ...]) -> tuple[SigningKey, ...]:
    """Create the key file with ``keys`` unless it exists; the keys the file holds.

    Processes starting together on a new installation must agree on one key: the first
    to link its file wins, the others read it.
    """
    temporary = _written(path, keys)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return read_key_file(path)
    finally:
        temporary.unlink()
    return keys


class SigningKeys:
    """The ring one process signs and verifies with.

    When the keys come from the key file and a ``kid`` turns up that the ring does not
    know, the file is read again (at most once a second): another process may have been
    started after ``stint keys rotate`` and sign with the new key already. From then on
    this process signs with the new current key too.
    """

    RELOAD_EVERY_SECONDS = 1.0

    def __init__(self, keys: tuple[SigningKey, ...], *, file: Path | None = None) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self._keys = keys
        self._by_kid = {key.kid: key for key in keys}
        self.file = file
        self._checked_at = float("-inf")

    @classmethod
    def single(cls, secret: str, kid: str = LEGACY_KID) -> SigningKeys:
        return cls((SigningKey(kid, secret),))

    @property
    def current(self) -> SigningKey:
        return self._keys[0]

    @property
    def all(self) -> tuple[SigningKey, ...]:
        return self._keys

    def find(self, kid: str) -> SigningKey | None:
        found = self._by_kid.get(kid)
        if found is None and self._reload():
            found = self._by_kid.get(kid)
        return found

    def _reload(self) -> bool:
        """Read the key file again if it may have changed; whether the ring changed."""
        now = time.monotonic()
        if self.file is None or now - self._checked_at < self.RELOAD_EVERY_SECONDS:
            return False
        self._checked_at = now
        try:
            keys = read_key_file(self.file)
        except FileNotFoundError:
            return False  # not rotated yet (the keys still come from the old single-key file)
        except (OSError, KeyRingError) as exc:
            log.error("could not read the key file again; keeping the keys read before: %s", exc)
            return False
        if keys == self._keys:
            return False
        self._keys = keys
        self._by_kid = {key.kid: key for key in keys}
        log.warning("the key file changed; signing with key %s", keys[0].kid)
        return True


def rotate_key_file(path: Path, ring: tuple[SigningKey, ...], now: datetime | None = None) -> SigningKey:
    """Make a new current key in ``path``, keeping every key of ``ring`` as a previous one.

    An installation still on the old single-key file has it moved in (as ``legacy``) and
    the old file deleted, so that the secret lives in one place.
    """
    fresh = new_key(now)
    write_key_file(path, (fresh, *ring))
    path.with_name(LEGACY_FILE).unlink(missing_ok=True)
    return fresh


def check_removable(ring: tuple[SigningKey, ...], kid: str) -> None:
    """Refuse to remove the current key, or one the ring does not hold."""
    if ring[0].kid == kid:
        raise KeyRingError(f"{kid!r} is the current key: rotate first, then remove it")
    if all(key.kid != kid for key in ring):
        raise KeyRingError(f"no key {kid!r}; keys: {', '.join(key.kid for key in ring)}")


def remove_from_key_file(path: Path, ring: tuple[SigningKey, ...], kid: str) -> tuple[SigningKey, ...]:
    """Drop the previous key ``kid`` from ``path``; the current key cannot be removed."""
    check_removable(ring, kid)
    kept = tuple(key for key in ring if key.kid != kid)
    write_key_file(path, kept)
    path.with_name(LEGACY_FILE).unlink(missing_ok=True)
    return kept

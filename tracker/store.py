"""Where the tracker keeps its tokens: ``$XDG_CONFIG_HOME/stint-tracker/tokens.json``.

The refresh token is as good as the user's password for what its scopes allow, so the file
is created with mode 0600 in a 0700 directory (never world-readable, not even for the moment
between writing and chmod), and replaced atomically so a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

try:  # Unix; on Windows the lock is skipped (one tracker process at a time there).
    import fcntl
except ImportError:  # pragma: no cover - not on the machines the tests run on
    fcntl = None  # type: ignore[assignment]

APP_DIR = "stint-tracker"


def config_dir() -> Path:
    """The XDG base directory spec's config home, ``~/.config`` when the variable is unset."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP_DIR


@dataclass
class Tokens:
    """What a pairing left: the server, and the tokens (empty once unpaired or logged out)."""

    server: str
    access_token: str = ""
    refresh_token: str = ""
    #: Seconds since the epoch when the access token runs out (the client's clock).
    expires_at: float = 0.0
    scope: str = ""
    #: The server refused the pairing (unpaired, revoked, app disabled): said again by every
    #: command until the next login, rather than a vaguer "not paired".
    unpaired: bool = False

    @property
    def paired(self) -> bool:
        return bool(self.refresh_token)

    def __repr__(self) -> str:  # never print a token, not even in a traceback
        return f"Tokens(server={self.server!r}, paired={self.paired}, scope={self.scope!r})"


class TokenStore:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or config_dir()
        self.path = self.directory / "tokens.json"

    def load(self) -> Tokens | None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable or damaged: as good as not paired
        if not isinstance(raw, dict) or not isinstance(raw.get("server"), str):
            return None
        fields = Tokens.__dataclass_fields__
        return Tokens(**{k: v for k, v in raw.items() if k in fields})

    def save(self, tokens: Tokens) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file 0600 from the start; os.replace swaps it in atomically.
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tokens-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(asdict(tokens), out)
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Held while refreshing: refresh tokens rotate, and one spent twice (``watch`` and
        ``start`` refreshing at once) reads to the server as theft and ends the pairing."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover
            yield
            return
        with open(self.directory / "tokens.lock", "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

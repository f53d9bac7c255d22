"""An httpx client for ``/api/v1`` that carries the tracker's bearer token and keeps it fresh.

The access token lives minutes; the refresh token rotates on every use (the server keeps the
family and treats a spent one presented again as stolen). So a refresh happens under the
store's lock, re-reads the file first (another tracker process may have refreshed already),
and saves the new pair before anything else can fail.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from tracker.store import Tokens, TokenStore

CLIENT_ID = "stint-tracker"
#: Refresh this long before the access token runs out, so a request never races its expiry.
EARLY_S = 30.0


class TrackerError(Exception):
    """Something the user is told in one line, with the exit code that goes with it."""

    exit_code = 1


class NotPaired(TrackerError):
    exit_code = 3


class Unpaired(NotPaired):
    """The server refused the refresh token: the app was unpaired, revoked or disabled, or
    the token family was ended because a spent refresh token came back."""


class Unreachable(TrackerError):
    exit_code = 4


class Refused(TrackerError):
    """The API answered a 4xx: the problem's title and detail are the message."""


def tokens_from(server: str, answer: Mapping[str, Any], now: float) -> Tokens:
    return Tokens(
        server=server,
        access_token=str(answer["access_token"]),
        refresh_token=str(answer.get("refresh_token") or ""),
        expires_at=now + float(answer.get("expires_in") or 0),
        scope=str(answer.get("scope") or ""),
    )


def problem_text(response: httpx.Response) -> str:
    """A problem+json's title and detail, or OAuth's error and description, in one line."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    parts = [body.get("title") or body.get("error"), body.get("detail") or body.get("error_description")]
    words = ": ".join(str(p) for p in parts if p)
    return words or f"HTTP {response.status_code}"


class Session:
    def __init__(self, store: TokenStore, http: httpx.Client | None = None,
                 clock: Any = time.time) -> None:
        tokens = store.load()
        if tokens is not None and tokens.unpaired:
            raise Unpaired(unpaired_message())
        if tokens is None or not tokens.paired:
            raise NotPaired("not paired with a Stint server; run `stint-tracker login URL`")
        self.store = store
        self.tokens = tokens
        self.clock = clock
        self.http = http or httpx.Client(base_url=tokens.server, timeout=15)

    def close(self) -> None:
        self.http.close()

    # -- tokens -----------------------------------------------------------------------------

    def refresh(self) -> None:
        held = self.tokens.refresh_token
        with self.store.locked():
            on_disk = self.store.load()
            if on_disk is not None and on_disk.paired and on_disk.refresh_token != held:
                self.tokens = on_disk  # another process refreshed while we waited
                return
            if on_disk is not None and (on_disk.unpaired or not on_disk.paired):
                raise Unpaired(unpaired_message())
            try:
                answer = self.http.post("/oauth/token", data={
                    "grant_type": "refresh_token", "refresh_token": held, "client_id": CLIENT_ID,
                })
            except httpx.TransportError as error:
                raise Unreachable(f"cannot reach {self.tokens.server}: {error}") from None
            if answer.status_code in (400, 401):  # invalid_grant, invalid_client: paired no more
                self.store.save(Tokens(server=self.tokens.server, unpaired=True))
                raise Unpaired(unpaired_message())
            if answer.status_code != 200:
                raise TrackerError(f"refreshing the token failed: {problem_text(answer)}")
            self.tokens = tokens_from(self.tokens.server, answer.json(), self.clock())
            self.store.save(self.tokens)

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        if self.clock() >= self.tokens.expires_at - EARLY_S:
            self.refresh()
        return {**(extra or {}), "Authorization": f"Bearer {self.tokens.access_token}"}

    # -- requests ---------------------------------------------------------------------------

    def request(self, method: str, path: str, *, headers: Mapping[str, str] | None = None,
                **kwargs: Any) -> httpx.Response:
        """The API's answer; a refused token is refreshed once, then it is `Unpaired`."""
        for attempt in (1, 2):
            try:
                answer = self.http.request(method, path, headers=self._headers(headers), **kwargs)
            except httpx.TransportError as error:
                raise Unreachable(f"cannot reach {self.tokens.server}: {error}") from None
            if answer.status_code != 401:
                break
            if attempt == 2:
                self.store.save(Tokens(server=self.tokens.server, unpaired=True))
                raise Unpaired(unpaired_message())
            self.refresh()
        if answer.status_code >= 400:
            raise Refused(problem_text(answer))
        return answer

    @contextlib.contextmanager
    def stream(self, method: str, path: str, *, headers: Mapping[str, str] | None = None,
               **kwargs: Any) -> Iterator[httpx.Response]:
        """A streamed answer, with the same refresh-once rule as `request`. Transport errors
        pass through as httpx's: whoever streams decides whether to reconnect."""
        for attempt in (1, 2):
            with self.http.stream(method, path, headers=self._headers(headers), **kwargs) as answer:
                if answer.status_code == 401:
                    if attempt == 2:
                        self.store.save(Tokens(server=self.tokens.server, unpaired=True))
                        raise Unpaired(unpaired_message())
                    answer.close()
                    self.refresh()
                    continue
                if answer.status_code >= 400:
                    answer.read()
                    raise Refused(problem_text(answer))
                yield answer
                return


def unpaired_message() -> str:
    return ("this tracker was unpaired from your Stint account (or its pairing was revoked); "
            "run `stint-tracker login` again")

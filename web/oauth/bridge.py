"""A Litestar request as Authlib reads it, Authlib's answer as the routes send it, and the
threads between them.

Authlib's framework-agnostic server is synchronous and Stint's storage is async, so each
protocol step runs in a worker thread (:func:`run_protocol`) and its callbacks hop back onto
the event loop for the database (``anyio.from_thread``). Only one request's callbacks run in
its thread, so nothing is shared between threads but the app's immutable state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs

import anyio.from_thread
import anyio.to_thread
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from litestar import Request

from ..security import client_address

__all__ = ["OAuthAnswer", "oauth_request", "on_loop", "run_protocol"]

_T = TypeVar("_T")


def on_loop(fn: Callable[..., Coroutine[Any, Any, _T]], *args: Any, **kwargs: Any) -> _T:
    """Run an async use case on the event loop from the protocol's worker thread."""
    return anyio.from_thread.run(functools.partial(fn, *args, **kwargs))


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self._datalist = {k: list(v) for k, v in values.items()}
        self._data = {k: v[0] for k, v in values.items() if v}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, method: str, uri: str, headers: Mapping[str, str], values: Mapping[str, list[str]],
                 address: str) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = _Payload(values)
        self._values = self.payload.data
        self.address = address

    @property
    def args(self) -> dict[str, str]:
        return self._values

    @property
    def form(self) -> dict[str, str]:
        return self._values


async def oauth_request(
    request: Request[Any, Any, Any], *, values: Mapping[str, list[str]] | None = None
) -> _Request:
    """The request as Authlib reads it: its parameters (the query, or the form body)."""
    if values is None:
        if request.method == "GET":
            values = parse_qs(request.url.query, keep_blank_values=True)
        else:
            values = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    # Authlib refuses plain http unless told otherwise; the transport is the deployment's
    # (TLS at the proxy, ``STINT_TRUSTED_PROXIES``), and it sees only the last hop.
    uri = "https://stint" + request.url.path
    # Litestar's headers: case-insensitive, as Authlib's lookups ("Authorization") need.
    return _Request(request.method, uri, request.headers, values, client_address(request))


@dataclass(frozen=True, slots=True)
class OAuthAnswer:
    status: int
    body: Any
    headers: list[tuple[str, str]]


async def run_protocol(step: Callable[[], _T]) -> _T:
    """One synchronous protocol step of Authlib's, in a worker thread (see the module's docstring)."""
    return await anyio.to_thread.run_sync(step)

"""Behind a load balancer: the real client address and scheme, from trusted proxies only.

``STINT_TRUSTED_PROXIES`` lists the addresses or networks (CIDR) of the proxies in front of
Stint; it is empty by default, and then no forwarding header is believed. When the peer of a
connection is one of them, :class:`ForwardedMiddleware` reads ``Forwarded`` (RFC 7239) — or,
without it, ``X-Forwarded-For`` / ``X-Forwarded-Proto`` — and walks the chain of addresses
from the right, skipping the trusted hops: the first address that is not a trusted proxy is
the client. Everything to its left was written by someone Stint does not trust and is
ignored. The middleware rewrites the ASGI scope's ``client`` and ``scheme``, so every reader
(rate limits and the audit trail through ``client_address``, sign-in history, the request
URL, redirects) sees the original request without knowing about proxies.

A header from an untrusted peer changes nothing: a client cannot choose its own address
to escape a rate limit or to forge the address an audit row records.
"""

from __future__ import annotations

import contextvars
import ipaddress
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from plugins.bootstrap import Stint

__all__ = [
    "ForwardedMiddleware",
    "Network",
    "original_scheme",
    "parse_networks",
    "resolve",
    "secure_cookies",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The scheme the client used, as resolved for the request being served ("" outside one).
_scheme_var: contextvars.ContextVar[str] = contextvars.ContextVar("stint_scheme", default="")

_SCHEMES = {"http": ("http", "ws"), "https": ("https", "wss")}


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``10.0.0.0/8``, ``192.0.2.7``, ``::1`` … as networks; ValueError names a bad entry."""
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is neither an IP address nor a network (CIDR)") from None
    return tuple(networks)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(value: str, networks: Sequence[Network]) -> bool:
    address = _address(value)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def _node(raw: str) -> str:
    """A ``for=`` node without quotes, brackets or port: ``"[2001:db8::1]:4711"`` → ``2001:db8::1``."""
    value = raw.strip().strip('"')
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has several colons
        return value.partition(":")[0]
    return value


def _forwarded(header: str) -> tuple[list[str], list[str]]:
    """RFC 7239: the ``for`` and ``proto`` of each element, left to right."""
    hops: list[str] = []
    protos: list[str] = []
    for element in header.split(","):
        pairs = {}
        for pair in element.split(";"):
            name, _, value = pair.partition("=")
            pairs[name.strip().lower()] = value.strip().strip('"')
        hops.append(_node(pairs.get("for", "")))
        protos.append(pairs.get("proto", "").lower())
    return hops, protos


def resolve(
    peer: str, headers: dict[bytes, bytes], networks: Sequence[Network]
) -> tuple[str, str | None]:
    """``(client address, original scheme or None)`` for a request from ``peer``.

    Only called when ``peer`` is a trusted proxy. The chain is the forwarded hops plus the
    peer; walking it from the right, each trusted hop vouches for the one to its left.
    """
    forwarded = headers.get(b"forwarded")
    if forwarded is not None:
        hops, protos = _forwarded(forwarded.decode("latin-1"))
    else:
        hops = [h.strip() for h in headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",")]
        hops = [_node(h) for h in hops if h]
        proto_header = headers.get(b"x-forwarded-proto", b"").decode("latin-1")
        protos = [p.strip().lower() for p in proto_header.split(",") if p.strip()]
        if protos and len(protos) != len(hops):
            # Not one per hop: only the nearest proxy's (the rightmost) is believed.
            protos = [""] * (len(hops) - 1) + [protos[-1]] if hops else [protos[-1]]
    if not hops:
        return peer, (protos[-1] if protos else None)
    index = len(hops) - 1
    while index > 0 and _trusted(hops[index], networks):
        index -= 1
    client = hops[index][:64] or peer
    proto = protos[index] if index < len(protos) and protos[index] else None
    if proto is None:
        # The scheme the nearest trusted proxy saw, when only it says so.
        proto = next((p for p in reversed(protos) if p), None)
    return client, proto


_FORWARDING = (b"forwarded", b"x-forwarded-for", b"x-forwarded-proto")


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """The forwarding headers, a header sent on several lines joined as one list (RFC 9110)."""
    found: dict[bytes, bytes] = {}
    for name, value in raw:
        lowered = name.lower()
        if lowered in _FORWARDING:
            found[lowered] = found[lowered] + b", " + value if lowered in found else value
    return found


class ForwardedMiddleware:
    """Rewrites ``scope["client"]`` and ``scope["scheme"]`` from a trusted proxy's headers."""

    def __init__(self, app: ASGIApp, networks: Sequence[Network] = ()) -> None:
        self.app = app
        self.networks = tuple(networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in (ScopeType.HTTP, ScopeType.WEBSOCKET):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        if self.networks and client and _trusted(client[0], self.networks):
            address, proto = resolve(client[0], _headers(scope["headers"]), self.networks)
            scope["client"] = (address, 0)
            if proto in _SCHEMES:
                http, ws = _SCHEMES[proto]
                scope["scheme"] = http if scope["type"] == ScopeType.HTTP else ws
        token = _scheme_var.set("https" if scope.get("scheme") in ("https", "wss") else "http")
        try:
            await self.app(scope, receive, send)
        finally:
            _scheme_var.reset(token)


def original_scheme() -> str:
    """``https`` or ``http``: how the client reached Stint (through trusted proxies)."""
    return _scheme_var.get()


def secure_cookies(stint: Stint) -> bool:
    """Cookies are ``Secure`` when Stint's public address is https or the request came over
    https through a trusted proxy (without trusted proxies the middleware is not installed
    and ``STINT_BASE_URL`` alone decides)."""
    return stint.settings.base_url.startswith("https://") or original_scheme() == "https"

"""Behind a load balancer: forwarding headers are believed only from STINT_TRUSTED_PROXIES.

Stint runs under uvicorn on loopback, as ``stint serve`` runs it; the tests connect from two
loopback addresses, 127.0.0.2 (listed as the trusted proxy) and 127.0.0.1 (not listed), so
the peer address the server sees is a real one, not a test client's placeholder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.clock import FixedClock
from server.app import create_app
from tests.conftest import make_settings
from tests.support.api import PASSWORD
from tests.support.served import served
from web.proxies import parse_networks, resolve

PROXY = "127.0.0.2"
STRANGER = "127.0.0.1"


@pytest.fixture
def server(tmp_path: Path, clock: FixedClock) -> Iterator[str]:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'stint.sqlite3'}", tmp_path,
        STINT_TRUSTED_PROXIES=f"{PROXY}/32,10.0.0.0/8", STINT_RATE_LIMIT_CLIENT="3",
    )
    with served(create_app(settings, clock=clock, migrate=True)) as base:
        yield base


def client_from(address: str, base: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=base, transport=transport, trust_env=False, timeout=10)


def sign_up_and_in(http: httpx.Client, headers: dict[str, str]) -> str:
    response = http.post("/api/v1/signup", headers=headers, json={
        "tenant": "acme", "name": "Acme", "deployment": "cloud",
        "admin": {"email": "admin@acme.test", "password": PASSWORD, "name": "Admin"},
    })
    assert response.status_code == 201, response.text
    signed_in = http.post("/api/v1/auth/token", headers=headers,
                          json={"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    return str(signed_in.json()["access_token"])


def sign_in_addresses(http: httpx.Client, token: str) -> list[str]:
    response = http.get("/api/v1/audit", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return [item["address"] for item in response.json()["items"] if item["action"].startswith("signin")]


def test_a_trusted_proxys_forwarded_address_is_the_one_audited(server: str) -> None:
    """Through the trusted proxy, the audit trail records the client it forwards, not the proxy."""
    with client_from(PROXY, server) as proxy:
        token = sign_up_and_in(proxy, {"X-Forwarded-For": "203.0.113.9, 10.1.2.3"})
        assert sign_in_addresses(proxy, token) == ["203.0.113.9"]


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored_by_the_audit_trail(server: str) -> None:
    """A client that claims another address is recorded under its own."""
    with client_from(STRANGER, server) as stranger:
        token = sign_up_and_in(stranger, {"X-Forwarded-For": "198.51.100.7"})
        assert sign_in_addresses(stranger, token) == [STRANGER]


def _token_requests(http: httpx.Client, forwarded_for: str) -> int:
    return http.post(
        "/api/v1/auth/token", headers={"X-Forwarded-For": forwarded_for},
        json={"tenant": "nobody", "email": "x@nobody.test", "password": "wrong password"},
    ).status_code


def test_rate_limits_count_the_forwarded_client_behind_a_trusted_proxy(server: str) -> None:
    """Two clients behind one balancer each get their own budget (limit 3 per minute)."""
    with client_from(PROXY, server) as proxy:
        assert [_token_requests(proxy, "203.0.113.1") for _ in range(4)] == [401, 401, 401, 429]
        # Another client behind the same balancer is not refused for the first one's requests.
        assert _token_requests(proxy, "203.0.113.2") == 401


def test_rate_limits_ignore_a_spoofed_header_from_an_untrusted_peer(server: str) -> None:
    """Inventing a new X-Forwarded-For per request does not escape the limit."""
    with client_from(STRANGER, server) as stranger:
        codes = [_token_requests(stranger, f"198.51.100.{n}") for n in range(4)]
        assert codes == [401, 401, 401, 429]


def test_the_original_scheme_makes_cookies_secure_and_turns_on_hsts(server: str) -> None:
    """A page sign-in forwarded as https sets Secure cookies; the same from a stranger does not."""
    form = {"tenant": "acme", "email": "admin@acme.test", "password": PASSWORD}
    with client_from(PROXY, server) as proxy:
        sign_up_and_in(proxy, {})
        behind = proxy.get("/", headers={"X-Forwarded-Proto": "https"})
        assert behind.headers["strict-transport-security"].startswith("max-age=")
        csrf = behind.cookies.get("csrftoken") or ""
        signed_in = proxy.post("/signin", data=form, headers={"X-Forwarded-Proto": "https",
                                                               "x-csrftoken": csrf})
        assert signed_in.status_code == 303, signed_in.text
        ours = [c for c in signed_in.headers.get_list("set-cookie") if c.startswith("stint_")]
        assert len(ours) == 2 and all("Secure" in c for c in ours), ours
    with client_from(STRANGER, server) as stranger:
        plain = stranger.get("/", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in plain.headers


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # The nearest untrusted hop is the client; anything to its left may be invented.
        ({b"x-forwarded-for": b"1.1.1.1, 203.0.113.9, 10.0.0.4"}, ("203.0.113.9", None)),
        ({b"x-forwarded-for": b"203.0.113.9", b"x-forwarded-proto": b"https"}, ("203.0.113.9", "https")),
        # Every hop trusted: the leftmost is as far as the chain goes.
        ({b"x-forwarded-for": b"10.0.0.7, 10.0.0.4"}, ("10.0.0.7", None)),
        # RFC 7239 wins over X-Forwarded-For, with quotes, ports and IPv6 brackets.
        ({b"forwarded": b'for="[2001:db8::1]:4711";proto=https, for=10.0.0.4',
          b"x-forwarded-for": b"6.6.6.6"}, ("2001:db8::1", "https")),
        ({b"forwarded": b"for=192.0.2.60:8080;proto=http;by=10.0.0.4"}, ("192.0.2.60", "http")),
        # No header: the peer itself.
        ({}, ("10.0.0.9", None)),
    ],
)
def test_the_chain_is_walked_from_the_right_skipping_trusted_hops(
    headers: dict[bytes, bytes], expected: tuple[str, str | None]
) -> None:
    assert resolve("10.0.0.9", headers, parse_networks(["10.0.0.0/8"])) == expected


def test_a_bad_trusted_proxies_entry_is_refused_with_its_name(tmp_path: Path) -> None:
    from plugins.settings import SettingsError

    with pytest.raises(SettingsError, match="STINT_TRUSTED_PROXIES"):
        make_settings("sqlite:///x.sqlite3", tmp_path, STINT_TRUSTED_PROXIES="10.0.0.0/8,lb.internal")

"""Online activation (SPEC §7): an on-premises Stint (in-process, on a controlled clock) activates
with a subscription id against a real licence service (``stint serve`` as a subprocess), keeps
its licence current, survives the service going away until expiry + 7 days, and works
through an HTTP proxy. The licence service's own endpoint is tested in-process too."""

from __future__ import annotations

import http.client
import os
import select
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from litestar.testing import TestClient

from core.activation.entitlements import subscription_for
from core.activation.ports import Entitlement
from core.clock import FixedClock
from core.services.activation import refresh_online_entitlements
from plugins.storage.activation_repo import PiccoloActivationDirectory
from tests.conftest import make_settings
from tests.support.api import PASSWORD, api_client, bearer, page_sign_in, run, signup, stint, token

STINT = str(Path(sys.executable).parent / "stint")
ONPREM = "acme-onprem"
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_env(**extra: str) -> dict[str, str]:
    """The environment without STINT_ settings or proxies (a test adds what it means to)."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith("STINT_") and k.upper() not in _PROXY_VARIABLES
    }
    env.update(STINT_FAST_PASSWORD_HASHING="1", STINT_SECRET_KEY="process-test-secret-" + "y" * 32,
               STINT_RATE_LIMIT_CLIENT="100000", **extra)
    return env


@dataclass
class StintProcess:
    """``stint serve`` on its own SQLite file and port."""

    url: str
    database: Path
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_stint(workdir: Path, *, database_url: str | None = None, **env: str) -> StintProcess:
    """``stint serve`` on a free port: on its own SQLite file unless given a ``database_url``."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    database = workdir / "stint.sqlite3"
    log = workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [STINT, "serve", "--port", str(port)], cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
            env=process_env(STINT_DATABASE_URL=database_url or f"sqlite:///{database}",
                            STINT_DATA_DIR=str(workdir / "data"), **env),
        )
    service = StintProcess(f"http://127.0.0.1:{port}", database, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(service.url + "/health", timeout=2, trust_env=False).status_code == 200:
                return service
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    service.stop()
    pytest.fail(f"stint serve did not start: {log.read_text(errors='replace')}")


def plain_client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=30, trust_env=False)


@dataclass
class Customer:
    """A customer's account on the licence service: an on-premises tenant that bought Team."""

    subscription_id: str
    headers: dict[str, str]
    period_end: date


def buy_on_service(service: StintProcess, slug: str = "acme-hq", seats: int = 10) -> Customer:
    with plain_client(service.url) as c:
        c.post("/api/v1/signup", json={
            "tenant": slug, "name": "Acme HQ", "deployment": "onprem",
            "admin": {"email": f"admin@{slug}.test", "password": PASSWORD, "name": "Admin"},
        }).raise_for_status()
        signin = c.post("/api/v1/auth/token",
                        json={"tenant": slug, "email": f"admin@{slug}.test", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {signin.json()['access_token']}"}
        bought = c.post("/api/v1/subscription/purchase",
                        json={"plan": "team", "interval": "annual", "seats": seats}, headers=headers)
        assert bought.status_code == 200, bought.text
        sub = c.get("/api/v1/subscription", headers=headers).json()
    return Customer(sub["id"], headers, date.fromisoformat(sub["period_end"]))


def change_seats_on_service(service: StintProcess, customer: Customer, seats: int) -> None:
    with plain_client(service.url) as c:
        changed = c.post("/api/v1/subscription/change", json={"seats": seats}, headers=customer.headers)
        assert changed.status_code == 200, changed.text


@dataclass
class RecordingProxy:
    """A tiny forward proxy on loopback: absolute-form HTTP and CONNECT tunnels, each recorded."""

    server: ThreadingHTTPServer
    requests: list[tuple[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_proxy() -> RecordingProxy:
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            seen.append((self.command, self.path))
            target = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hop = {"proxy-connection", "connection"}
            headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
            upstream = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=30)
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request(self.command, path, body, headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in {"transfer-encoding", "connection", "content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            upstream.close()

        do_GET = do_POST = _forward

        def do_CONNECT(self) -> None:
            seen.append(("CONNECT", self.path))
            host, _, port = self.path.rpartition(":")
            upstream = socket.create_connection((host, int(port)), timeout=30)
            self.send_response(200, "Connection established")
            self.end_headers()
            sockets = [self.connection, upstream]
            while True:
                readable, _, _ = select.select(sockets, [], [], 30)
                if not readable:
                    break
                for sock in readable:
                    chunk = sock.recv(65536)
                    if not chunk:
                        upstream.close()
                        return
                    (upstream if sock is self.connection else self.connection).sendall(chunk)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return RecordingProxy(server, seen)


# Fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StintProcess]:
    """The vendor's licence service, shared by the tests that never stop it."""
    process = start_stint(tmp_path_factory.mktemp("service"), STINT_LICENCE_SERVICE="1")
    yield process
    process.stop()


@pytest.fixture
def onprem_clock() -> FixedClock:
    # The service runs on the real clock; the on-premises server starts at the same instant.
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def onprem_for(tmp_path: Path, onprem_clock: FixedClock) -> Any:
    """An in-process on-premises Stint pointed at a given licence service."""

    def build(service_url: str | None, **extra: str) -> Any:
        env = {"STINT_LICENCE_SERVICE_URL": service_url} if service_url else {}
        settings = make_settings(f"sqlite:///{tmp_path / 'onprem.sqlite3'}", tmp_path, **env, **extra)
        return api_client(settings, onprem_clock)

    return build


def onprem_admin(client: TestClient[Any]) -> dict[str, str]:
    return bearer(token(client, ONPREM, f"admin@{ONPREM}.test"))


def activate(client: TestClient[Any], subscription_id: str) -> Any:
    return client.post("/api/v1/subscription/activate", json={"subscription_id": subscription_id},
                       headers=onprem_admin(client))


def registrations(service: StintProcess) -> list[tuple[str, str, str]]:
    with sqlite3.connect(service.database) as db:
        rows = db.execute("SELECT subscription_id, server_id, tenant FROM licence_registration").fetchall()
    return [tuple(row) for row in rows]


# On-premises server against a real licence service --------------------------------------------


def test_online_activation_with_a_subscription_id_installs_the_services_entitlement(
    service: StintProcess, onprem_for: Any
) -> None:
    """The server registers (recorded on the service) and its subscription becomes Team, 10 seats."""
    customer = buy_on_service(service, "acme-one")
    with onprem_for(service.url) as client:
        signup(client, ONPREM, deployment="onprem")
        headers = onprem_admin(client)
        server_id = client.get("/api/v1/subscription/server-id", headers=headers).json()["server_id"]

        response = activate(client, customer.subscription_id.upper())

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["mode"], body["plan"], body["seats"], body["status"]) == ("online", "team", 10, "active")
        assert body["expires_on"] == customer.period_end.isoformat()
        assert body["subscription_id"] == customer.subscription_id and body["warnings"] == []
        sub = client.get("/api/v1/subscription", headers=headers).json()
        assert (sub["plan"], sub["seats"], sub["managed_by"]) == ("team", 10, "activation_online")
        assert sub["period_end"] == (customer.period_end + timedelta(days=7)).isoformat()
        assert client.get("/api/v1/me/access", headers=headers).json()["allowed"] is True
    assert (customer.subscription_id, server_id, ONPREM) in registrations(service)


def test_the_subscription_page_activates_online_and_shows_a_refusal_in_words(
    service: StintProcess, onprem_for: Any
) -> None:
    """The page's form (``POST /settings/subscription/activate``) does what the API does: an
    unknown id is refused with the service's message and installs nothing; a good one
    activates, and the page says so and shows the plan."""
    customer = buy_on_service(service, "acme-page")
    with onprem_for(service.url) as client:
        signup(client, ONPREM, deployment="onprem")
        page_sign_in(client, ONPREM, f"admin@{ONPREM}.test")

        def submit(subscription_id: str) -> Any:
            return client.post("/settings/subscription/activate", data={
                "subscription_id": subscription_id, "_csrf_token": client.cookies["csrftoken"]})

        refused = submit("0" * 32)
        assert refused.status_code == 422, refused.text
        assert "No subscription has this id" in refused.text
        before = client.get("/api/v1/subscription/activation", headers=onprem_admin(client)).json()
        assert before["mode"] is None

        activated = submit(customer.subscription_id)

        assert activated.status_code == 200, activated.text
        assert "Activated online." in activated.text
        view = client.get("/api/v1/subscription/activation", headers=onprem_admin(client)).json()
        assert (view["mode"], view["plan"], view["seats"]) == ("online", "team", 10)


def test_a_seat_change_on_the_service_appears_on_the_server_after_a_refresh(
    service: StintProcess, onprem_for: Any
) -> None:
    """On demand and by the job: 10 → 15 → 12 seats; the job run twice changes nothing more."""
    customer = buy_on_service(service, "acme-two")
    with onprem_for(service.url) as client:
        signup(client, ONPREM, deployment="onprem")
        headers = onprem_admin(client)
        assert activate(client, customer.subscription_id).status_code == 200

        change_seats_on_service(service, customer, 15)
        refreshed = client.post("/api/v1/subscription/activation/refresh", headers=headers)
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["seats"] == 15
        assert client.get("/api/v1/subscription", headers=headers).json()["seats"] == 15

        change_seats_on_service(service, customer, 12)
        s = stint(client)
        directory = PiccoloActivationDirectory()
        report = run(client, refresh_online_entitlements, s.uow, directory, s.licence_client, s.clock)
        assert (report.refreshed, report.failed) == (1, 0)
        assert client.get("/api/v1/subscription", headers=headers).json()["seats"] == 12
        version = _subscription_version(client)
        again = run(client, refresh_online_entitlements, s.uow, directory, s.licence_client, s.clock)
        assert (again.refreshed, again.failed) == (1, 0)
        assert _subscription_version(client) == version


def _subscription_version(client: TestClient[Any]) -> int:
    from plugins.storage.tables import Subscription

    async def read() -> int:
        row = await Subscription.select(Subscription.version).first()
        return int(row["version"])

    return int(run(client, read))


def test_with_the_service_gone_the_last_entitlement_holds_until_expiry_plus_seven_days(
    tmp_path: Path, onprem_for: Any, onprem_clock: FixedClock
) -> None:
    """Refresh fails with a 503 and a warning; expiry + 6 days still works; + 7 days blocks."""
    own_service = start_stint(tmp_path / "service", STINT_LICENCE_SERVICE="1")
    try:
        customer = buy_on_service(own_service)
        with onprem_for(own_service.url) as client:
            signup(client, ONPREM, deployment="onprem")
            headers = onprem_admin(client)
            assert activate(client, customer.subscription_id).status_code == 200
            own_service.stop()

            failed = client.post("/api/v1/subscription/activation/refresh", headers=headers)

            assert failed.status_code == 503, failed.text
            last_day = customer.period_end + timedelta(days=6)
            assert failed.json()["code"] == "licence_service_unreachable"
            assert failed.json()["detail"].endswith(
                f"The current licence stays valid up to and including {last_day.isoformat()}."
            )
            view = client.get("/api/v1/subscription/activation", headers=headers).json()
            assert view["refresh_error"] and len(view["warnings"]) == 1
            assert view["warnings"][0].startswith("Stint could not reach the licence service")
            assert client.get("/api/v1/me/access", headers=headers).json()["allowed"] is True

            onprem_clock.set(datetime.combine(last_day, datetime.min.time(), UTC) + timedelta(hours=23))
            s = stint(client)
            report = run(client, refresh_online_entitlements, s.uow, PiccoloActivationDirectory(),
                         s.licence_client, s.clock)
            assert (report.refreshed, report.failed) == (0, 1)
            headers = onprem_admin(client)
            assert client.get("/api/v1/me/access", headers=headers).json()["allowed"] is True

            onprem_clock.advance(hours=1)
            headers = onprem_admin(client)
            blocked = client.get("/api/v1/me/access", headers=headers).json()
            assert (blocked["allowed"], blocked["reason"]) == (False, "expired")
            assert client.get("/api/v1/worklogs", headers=headers).status_code == 402
            # The admin still reaches the activation page to fix it.
            assert client.get("/api/v1/subscription/activation", headers=headers).status_code == 200
    finally:
        own_service.stop()


def test_an_unknown_subscription_id_is_refused_with_the_services_message(
    service: StintProcess, onprem_for: Any
) -> None:
    """A well-formed id the service does not know: 422, nothing installed."""
    with onprem_for(service.url) as client:
        signup(client, ONPREM, deployment="onprem")
        response = activate(client, "0" * 32)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "licence_service_refused"
        assert "No subscription has this id" in response.json()["detail"]
        bad = activate(client, "not-an-id")
        assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
        view = client.get("/api/v1/subscription/activation", headers=onprem_admin(client)).json()
        assert view["mode"] is None


def test_cloud_tenants_and_unconfigured_servers_cannot_activate_online(onprem_for: Any) -> None:
    """A cloud tenant gets 409; with no STINT_LICENCE_SERVICE_URL the admin is told to set it."""
    with onprem_for(None) as client:
        signup(client, ONPREM, deployment="onprem")
        response = activate(client, "a" * 32)
        assert response.status_code == 503
        assert "no licence service is configured (STINT_LICENCE_SERVICE_URL)" in response.json()["detail"]
        signup(client, "cloudco")
        cloud = client.post("/api/v1/subscription/activate", json={"subscription_id": "a" * 32},
                            headers=bearer(token(client, "cloudco", "admin@cloudco.test")))
        assert cloud.status_code == 409


def test_the_usual_proxy_variables_are_honoured(
    service: StintProcess, onprem_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With HTTP_PROXY set (and no Stint proxy setting) the activation goes through that proxy."""
    customer = buy_on_service(service, "acme-env-proxy")
    proxy = start_proxy()
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with onprem_for(service.url) as client:
            signup(client, ONPREM, deployment="onprem")
            assert activate(client, customer.subscription_id).status_code == 200
    finally:
        proxy.close()
    assert proxy.requests == [("POST", service.url + "/api/v1/licence-service/entitlements")]


# The licence service's endpoint -----------------------------------------------------------------


ENDPOINT = "/api/v1/licence-service/entitlements"


@pytest.fixture
def service_client(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    settings = make_settings(database_url, tmp_path, STINT_LICENCE_SERVICE="1",
                             STINT_LICENCE_SERVICE_MAX_SERVERS="2")
    with api_client(settings, clock) as c:
        yield c


def bought(client: TestClient[Any], slug: str, plan: str = "team", deployment: str = "onprem") -> str:
    signup(client, slug, deployment=deployment)
    headers = bearer(token(client, slug, f"admin@{slug}.test"))
    purchase = {"plan": plan, "interval": "annual", "seats": 5}
    response = client.post("/api/v1/subscription/purchase", json=purchase, headers=headers)
    assert response.status_code == 200, response.text
    return str(client.get("/api/v1/subscription", headers=headers).json()["id"])


def ask(client: TestClient[Any], subscription_id: str, server_id: str = "SRV-A") -> Any:
    return client.post(ENDPOINT, json={"subscription_id": subscription_id, "server_id": server_id,
                                       "tenant": "acme"})


def test_the_licence_service_endpoint_exists_only_when_enabled(
    database_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """An ordinary Stint (and every on-premises server) answers 404."""
    with api_client(make_settings(database_url, tmp_path), clock) as client:
        assert ask(client, "a" * 32).status_code == 404


def test_the_service_answers_a_paid_subscription_with_its_entitlement(
    service_client: TestClient[Any], clock: FixedClock
) -> None:
    """Plan, seats, interval, period and status come from the service's own subscription row."""
    sub_id = bought(service_client, "acme-hq")
    answer = ask(service_client, sub_id)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["plan"], body["seats"], body["interval"], body["status"]) == ("team", 5, "annual", "active")
    assert (body["period_start"], body["expires_on"]) == ("2026-01-01", "2027-01-01")


def test_unknown_ids_are_limited_per_address(service_client: TestClient[Any]) -> None:
    """Ten unknown ids a minute get 404; the eleventh call from that address gets 429, whatever the id."""
    sub_id = bought(service_client, "acme-hq")
    for n in range(10):
        missing = ask(service_client, f"{n:032x}")
        assert missing.status_code == 404 and missing.json()["code"] == "unknown_subscription"
    assert ask(service_client, "f" * 32).status_code == 429
    assert ask(service_client, sub_id).status_code == 429


def test_a_subscription_activates_at_most_the_configured_number_of_servers(
    service_client: TestClient[Any],
) -> None:
    """With a limit of 2: A and B register, C is refused (409), A and B keep refreshing."""
    sub_id = bought(service_client, "acme-hq")
    assert ask(service_client, sub_id, "SRV-A").status_code == 200
    assert ask(service_client, sub_id, "SRV-B").status_code == 200
    third = ask(service_client, sub_id, "SRV-C")
    assert third.status_code == 409 and third.json()["code"] == "too_many_servers"
    assert ask(service_client, sub_id, "SRV-A").status_code == 200
    assert ask(service_client, sub_id, "SRV-C").status_code == 409


def test_a_trial_or_a_cloud_only_plan_cannot_activate_a_server(service_client: TestClient[Any]) -> None:
    """Never bought: 409 not_activatable; a Start (cloud-only) subscription: 409 not_activatable."""
    signup(service_client, "trial-co", deployment="onprem")
    headers = bearer(token(service_client, "trial-co", "admin@trial-co.test"))
    trial_id = service_client.get("/api/v1/subscription", headers=headers).json()["id"]
    assert ask(service_client, trial_id).json()["code"] == "not_activatable"
    start_id = bought(service_client, "start-co", plan="start", deployment="cloud")
    refused = ask(service_client, start_id)
    assert refused.status_code == 409 and refused.json()["code"] == "not_activatable"


def test_an_expired_entitlement_blocks_at_once_and_a_live_one_holds_seven_days_past_expiry() -> None:
    """A live entitlement holds through expiry + 6 days; one the service calls expired blocks at once."""
    live = Entitlement("team", 10, "annual", date(2026, 1, 1), date(2027, 1, 1), "active", "online")
    assert subscription_for(live, date(2027, 1, 7)).status.value == "cancelled"
    assert subscription_for(live, date(2027, 1, 8)).status.value == "expired"
    gone = Entitlement("team", 10, "annual", date(2026, 1, 1), date(2027, 1, 1), "expired", "online")
    assert subscription_for(gone, date(2026, 12, 1)).status.value == "expired"

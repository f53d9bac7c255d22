"""Two Stint processes on loopback (SPEC §7): the licence service and an on-premises server, each
``stint serve`` on its own SQLite file and port. Online activation, a seat change reaching the
server, the server working on with the service stopped — directly, and over HTTPS through a
recording proxy."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.integration.test_activation_online import (
    PASSWORD,
    StintProcess,
    buy_on_service,
    change_seats_on_service,
    free_port,
    plain_client,
    process_env,
    start_proxy,
    start_stint,
)

ONPREM = "acme-onprem"


def onprem_admin(server: StintProcess) -> dict[str, str]:
    with plain_client(server.url) as c:
        c.post("/api/v1/signup", json={
            "tenant": ONPREM, "name": "Acme on-prem", "deployment": "onprem",
            "admin": {"email": f"admin@{ONPREM}.test", "password": PASSWORD, "name": "Admin"},
        }).raise_for_status()
        signin = c.post("/api/v1/auth/token",
                        json={"tenant": ONPREM, "email": f"admin@{ONPREM}.test", "password": PASSWORD})
    return {"Authorization": f"Bearer {signin.json()['access_token']}"}


def test_two_processes_activate_online_follow_a_seat_change_and_survive_the_service_stopping(
    tmp_path: Path,
) -> None:
    """Activate by id, 10 → 20 seats after a refresh, then the service stops: 503 on refresh, access kept."""
    service = start_stint(tmp_path / "service", STINT_LICENCE_SERVICE="1")
    onprem = start_stint(tmp_path / "onprem", STINT_LICENCE_SERVICE_URL=service.url)
    try:
        customer = buy_on_service(service)
        headers = onprem_admin(onprem)
        with plain_client(onprem.url) as c:
            activated = c.post("/api/v1/subscription/activate",
                               json={"subscription_id": customer.subscription_id}, headers=headers)
            assert activated.status_code == 200, activated.text
            assert (activated.json()["plan"], activated.json()["seats"]) == ("team", 10)
            assert c.get("/api/v1/me/access", headers=headers).json()["allowed"] is True

            change_seats_on_service(service, customer, 20)
            refreshed = c.post("/api/v1/subscription/activation/refresh", headers=headers)
            assert refreshed.status_code == 200 and refreshed.json()["seats"] == 20
            assert c.get("/api/v1/subscription", headers=headers).json()["seats"] == 20

            service.stop()
            failed = c.post("/api/v1/subscription/activation/refresh", headers=headers)
            assert failed.status_code == 503 and failed.json()["code"] == "licence_service_unreachable"
            assert c.get("/api/v1/me/access", headers=headers).json()["allowed"] is True
            assert c.get("/api/v1/subscription/activation", headers=headers).json()["warnings"]
    finally:
        onprem.stop()
        service.stop()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, its own CA: the on-premises server trusts it by setting."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "licence.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def _https_service(workdir: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    """The licence service app behind TLS (uvicorn's own TLS; ``stint serve`` is plain HTTP)."""
    workdir.mkdir(parents=True)
    cert, key = _self_signed(workdir)
    env = process_env(STINT_DATABASE_URL=f"sqlite:///{workdir / 'stint.sqlite3'}",
                      STINT_DATA_DIR=str(workdir / "data"), STINT_LICENCE_SERVICE="1")
    stint = str(Path(sys.executable).parent / "stint")
    subprocess.run([stint, "db", "upgrade"], cwd=workdir, env=env, check=True, capture_output=True)
    port = free_port()
    log = (workdir / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "server.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--ssl-certfile", str(cert), "--ssl-keyfile", str(key),
         "--log-level", "warning"],
        cwd=Path(__file__).resolve().parents[2], env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"https://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            health = httpx.get(url + "/health", verify=_trusting(cert), timeout=2, trust_env=False)
            if health.status_code == 200:
                return process, url, cert
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"the HTTPS licence service did not start: {(workdir / 'serve.log').read_text()}")


def test_activation_goes_over_https_through_the_configured_proxy(tmp_path: Path) -> None:
    """With STINT_LICENCE_SERVICE_PROXY the server tunnels (CONNECT) to the HTTPS service."""
    process, url, cert = _https_service(tmp_path / "service")
    proxy = start_proxy()
    onprem = start_stint(tmp_path / "onprem", STINT_LICENCE_SERVICE_URL=url,
                         STINT_LICENCE_SERVICE_PROXY=proxy.url, STINT_LICENCE_SERVICE_CA=str(cert))
    try:
        with httpx.Client(base_url=url, verify=_trusting(cert), trust_env=False, timeout=30) as c:
            c.post("/api/v1/signup", json={
                "tenant": "acme-hq", "name": "Acme HQ", "deployment": "onprem",
                "admin": {"email": "admin@acme-hq.test", "password": PASSWORD, "name": "Admin"},
            }).raise_for_status()
            signin = c.post("/api/v1/auth/token",
                            json={"tenant": "acme-hq", "email": "admin@acme-hq.test", "password": PASSWORD})
            vendor = {"Authorization": f"Bearer {signin.json()['access_token']}"}
            c.post("/api/v1/subscription/purchase", json={"plan": "team", "interval": "annual", "seats": 8},
                   headers=vendor).raise_for_status()
            sub_id = c.get("/api/v1/subscription", headers=vendor).json()["id"]
        headers = onprem_admin(onprem)
        with plain_client(onprem.url) as c:
            body = {"subscription_id": sub_id}
            activated = c.post("/api/v1/subscription/activate", json=body, headers=headers)
            assert activated.status_code == 200, activated.text
            assert activated.json()["seats"] == 8
            assert c.post("/api/v1/subscription/activation/refresh", headers=headers).status_code == 200
        port = url.rsplit(":", 1)[1]
        # Every connection went through the proxy to the service: one per call, or more when a
        # connection is opened again under load (seen once in CI with three test workers).
        assert len(proxy.requests) >= 2
        assert set(proxy.requests) == {("CONNECT", f"127.0.0.1:{port}")}
    finally:
        onprem.stop()
        proxy.close()
        process.terminate()
        process.wait(timeout=20)

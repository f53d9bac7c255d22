"""A small stand-in for Azure DevOps' work item REST API (7.1), run by tests on loopback.

It speaks the request and response shapes Stint uses: ``GET …/workitems/{id}``,
``GET …/workitems/{id}/revisions/{rev}`` and a JSON Patch ``PATCH …/workitems/{id}``
whose ``test /rev`` fails with 412 when the item has moved on. Tests can inject
faults: a 500 before a write, a write whose answer is lost, or a concurrent edit.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PAT = "test-pat-0123456789"
# The organisation's root, optionally under a project: /{project}/_apis/wit/workitems/{id}.
_ITEM = re.compile(r"^(?:/[^/]+)?/_apis/wit/workitems/(\d+)(?:/revisions/(\d+))?$")


@dataclass
class FakeAzureDevOps:
    items: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    """Consumed one per PATCH: 'fail' (500, nothing written), 'lost' (written, then 500),
    'stale' (someone else edits the item first, so the test of /rev fails)."""
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def create(self, remaining: float | None = None) -> str:
        with self.lock:
            item_id = len(self.items) + 1
            fields: dict[str, Any] = {"System.Title": f"Item {item_id}"}
            if remaining is not None:
                fields["Microsoft.VSTS.Scheduling.RemainingWork"] = remaining
            self.items[item_id] = [{"id": item_id, "rev": 1, "fields": fields}]
            return str(item_id)

    def current(self, item: str) -> dict[str, Any]:
        return self.items[int(item)][-1]

    def field(self, item: str, name: str) -> Any:
        return self.current(item)["fields"].get(f"Microsoft.VSTS.Scheduling.{name}")

    def touch(self, item: str) -> None:
        """Someone else edits the item (its title): a new revision."""
        with self.lock:
            self._revise(int(item), {"System.Title": f"edited {len(self.items[int(item)])}"})

    def _revise(self, item_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        last = self.items[item_id][-1]
        new = {"id": item_id, "rev": last["rev"] + 1, "fields": {**last["fields"], **changes}}
        self.items[item_id].append(new)
        return new

    def patch(self, item_id: int, ops: list[dict[str, Any]]) -> tuple[int, Any]:
        with self.lock:
            fault = self.faults.pop(0) if self.faults else "ok"
            if item_id not in self.items:
                return 404, {"message": "not found"}
            if fault == "fail":
                return 500, {"message": "injected failure"}
            if fault == "stale":
                self._revise(item_id, {"System.Title": "edited meanwhile"})
            current = self.items[item_id][-1]
            changes: dict[str, Any] = {}
            for op in ops:
                if op["op"] == "test" and op["path"] == "/rev":
                    if op["value"] != current["rev"]:
                        return 412, {"message": "TF26071: This work item has been changed by someone else"}
                elif op["op"] in ("add", "replace") and op["path"].startswith("/fields/"):
                    changes[op["path"].removeprefix("/fields/")] = op["value"]
                else:
                    return 400, {"message": f"unsupported op {op}"}
            new = self._revise(item_id, changes)
            if fault == "lost":
                return 500, {"message": "the write landed but the answer was lost"}
            return 200, new


def serve(fake: FakeAzureDevOps, tls: tuple[str, str] | None = None) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``fake`` on loopback (over TLS with ``tls`` = (certificate file, key file))."""
    expected_auth = "Basic " + base64.b64encode(f":{PAT}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self) -> tuple[int, int | None] | None:
            path, _, query = self.path.partition("?")
            fake.requests.append((self.command, self.path))
            if self.headers.get("Authorization") != expected_auth:
                self._answer(401, {"message": "bad PAT"})
                return None
            if "api-version=7.1" not in query:
                self._answer(400, {"message": "api-version 7.1 is required"})
                return None
            match = _ITEM.match(path)
            if match is None:
                self._answer(404, {"message": "no such route"})
                return None
            return int(match[1]), int(match[2]) if match[2] else None

        def do_GET(self) -> None:
            route = self._route()
            if route is None:
                return
            item_id, rev = route
            revisions = fake.items.get(item_id)
            if revisions is None or (rev is not None and not 1 <= rev <= len(revisions)):
                self._answer(404, {"message": "not found"})
                return
            self._answer(200, revisions[-1] if rev is None else revisions[rev - 1])

        def do_PATCH(self) -> None:
            route = self._route()
            if route is None:
                return
            if self.headers.get("Content-Type") != "application/json-patch+json":
                self._answer(415, {"message": "use application/json-patch+json"})
                return
            ops = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self._answer(*fake.patch(route[0], ops))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"{scheme}://127.0.0.1:{server.server_address[1]}"


def self_signed_certificate(directory: Path) -> tuple[str, str]:
    """(certificate file, key file) for 127.0.0.1; the certificate is its own CA for clients."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake Azure DevOps")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "azure-cert.pem", directory / "azure-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return str(cert_file), str(key_file)

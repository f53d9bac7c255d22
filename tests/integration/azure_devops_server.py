"""A small stand-in for Azure DevOps' work item REST API (7.1), run by tests on loopback.

It speaks the request and response shapes Stint uses: ``GET …/workitems/{id}``,
``GET …/workitems/{id}/revisions/{rev}`` and a JSON Patch ``PATCH …/workitems/{id}``
whose ``test /rev`` fails with 412 when the item has moved on. Tests can inject
faults: a 500 before a write, a write whose answer is lost, or a concurrent edit.

For the work item sync it also answers ``POST {project}/_apis/wit/wiql`` (the flat query
the sync sends: ``[System.ChangedDate]`` / ``[System.Id]`` comparisons joined by AND/OR,
ordered by those two; at most 20,000 results unless ``$top`` asks for fewer, and a time
in a date literal only with ``timePrecision=true``, as the real service),
``POST {project}/_apis/wit/workitemsbatch`` (≤ 200 ids, a ``fields`` list, ``asOf``,
``errorPolicy``) and ``GET {project}[/{team}]/_apis/work/teamsettings/iterations``.
:meth:`FakeAzureDevOps.fail` makes the n-th call of a route answer 500 or drop the
connection.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import socket
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PAT = "test-pat-0123456789"
# The organisation's root, optionally under a project: /{project}/_apis/wit/workitems/{id}.
_ITEM = re.compile(r"^(?:/[^/]+)?/_apis/wit/workitems/(\d+)(?:/revisions/(\d+))?$")
_WIQL = re.compile(r"^/([^/]+)(?:/[^/]+)?/_apis/wit/wiql$")
_BATCH = re.compile(r"^/([^/]+)/_apis/wit/workitemsbatch$")
_ITERATIONS = re.compile(r"^/([^/]+)(?:/[^/]+)?/_apis/work/teamsettings/iterations$")
#: The real service refuses a query with more results than this (unless ``$top`` is lower).
WIQL_LIMIT = 20_000
BATCH_LIMIT = 200
SCHEDULING = "Microsoft.VSTS.Scheduling."


def stamp(at: datetime) -> str:
    """DevOps' date-time text: UTC, milliseconds, ``Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class Person:
    display_name: str
    unique_name: str

    def identity(self) -> dict[str, Any]:
        """An identity field's value as 7.1 returns it (``System.AssignedTo``)."""
        guid = str(uuid.uuid5(uuid.NAMESPACE_URL, self.unique_name))
        return {
            "displayName": self.display_name,
            "url": f"https://spsprodweu5.vssps.visualstudio.com/_apis/Identities/{guid}",
            "_links": {"avatar": {"href": f"https://dev.azure.com/fabrikam/_apis/GraphProfile/MemberAvatars/aad.{guid}"}},
            "id": guid,
            "uniqueName": self.unique_name,
            "imageUrl": f"https://dev.azure.com/fabrikam/_apis/GraphProfile/MemberAvatars/aad.{guid}",
            "descriptor": f"aad.{guid}",
        }


@dataclass(frozen=True)
class FakeIteration:
    name: str
    path: str
    start: datetime | None = None
    finish: datetime | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class FakeAzureDevOps:
    items: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    """Consumed one per PATCH: 'fail' (500, nothing written), 'lost' (written, then 500),
    'stale' (someone else edits the item first, so the test of /rev fails)."""
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    """The server's clock: every revision is stamped with it (``System.ChangedDate``)."""
    iterations: list[FakeIteration] = field(default_factory=list)
    served: list[int] = field(default_factory=list)
    """The ids of every item workitemsbatch answered with, in order."""
    calls: dict[str, int] = field(default_factory=dict)
    planned: dict[tuple[str, int], str] = field(default_factory=dict)

    def fail(self, route: str, call: int, how: str = "500") -> None:
        """Make the ``call``-th request (1-based, counted from now on) to ``route`` ('wiql',
        'workitemsbatch', 'iterations') answer 500 (``how='500'``) or close the connection
        without an answer (``how='drop'``)."""
        with self.lock:
            self.planned[(route, self.calls.get(route, 0) + call)] = how

    def _count(self, route: str) -> str | None:
        with self.lock:
            self.calls[route] = self.calls.get(route, 0) + 1
            return self.planned.pop((route, self.calls[route]), None)

    def tick(self, seconds: float = 1.0) -> datetime:
        with self.lock:
            self.now += timedelta(seconds=seconds)
            return self.now

    def add(
        self, *, title: str, type: str = "Task", state: str = "New", assigned_to: Person | None = None,
        iteration_path: str | None = None, area_path: str | None = None, parent: int | None = None,
        original_estimate: float | None = None, remaining: float | None = None,
        completed: float | None = None, tags: str | None = None, project: str = "Fabrikam",
    ) -> int:
        """A work item with the sync's fields, created at the server's current time."""
        with self.lock:
            item_id = max(self.items, default=0) + 1
            values: dict[str, Any] = {
                "System.Id": item_id,
                "System.AreaPath": area_path or project,
                "System.TeamProject": project,
                "System.IterationPath": iteration_path or project,
                "System.WorkItemType": type,
                "System.State": state,
                "System.Reason": "New",
                "System.AssignedTo": assigned_to.identity() if assigned_to else None,
                "System.CreatedDate": stamp(self.now),
                "System.Title": title,
                "System.Parent": parent,
                "System.Tags": tags,
                SCHEDULING + "OriginalEstimate": original_estimate,
                SCHEDULING + "RemainingWork": remaining,
                SCHEDULING + "CompletedWork": completed,
            }
            fields = {name: value for name, value in values.items() if value is not None}
            self.items[item_id] = []
            self._revise(item_id, fields)
            return item_id

    def change(self, item_id: int, fields: dict[str, Any]) -> None:
        """Someone edits the item in DevOps: a new revision at the server's current time."""
        with self.lock:
            self._revise(item_id, fields)

    def delete(self, item_id: int) -> None:
        """The item goes to the recycle bin: it no longer exists for queries and reads."""
        with self.lock:
            del self.items[item_id]

    def _as_of(self, item_id: int, as_of: datetime | None) -> dict[str, Any] | None:
        revisions = self.items.get(item_id) or []
        if as_of is None:
            return revisions[-1] if revisions else None
        seen = [r for r in revisions if parse_stamp(r["fields"]["System.ChangedDate"]) <= as_of]
        return seen[-1] if seen else None

    def query(
        self, wiql: str, top: int | None, time_precision: bool, project: str = "Fabrikam"
    ) -> tuple[int, Any]:
        try:
            condition, order = _parse_wiql(wiql, project)
        except ValueError as exc:
            return 400, {"message": f"TF51006: The query statement is not supported by this server: {exc}",
                         "typeKey": "WorkItemTrackingQueryException"}
        if not time_precision and any(isinstance(v, datetime) and v.time() != datetime.min.time()
                                      for v in condition.literals()):
            return 400, {"message": "You cannot supply a time with the date when running a query using "
                                    "date precision.", "typeKey": "WorkItemTrackingQueryException"}
        with self.lock:
            as_of = self.now
            rows = [revisions[-1]["fields"] for revisions in self.items.values() if revisions]
        found = [row for row in rows if condition.holds(row)]
        found.sort(key=lambda row: tuple(_value(row, name) for name in order))
        if top is None and len(found) > WIQL_LIMIT:
            return 400, {"message": f"VS402337: The number of work items returned exceeds the size limit of "
                                    f"{WIQL_LIMIT}. Change the query to return fewer work items.",
                         "typeKey": "WorkItemTrackingQueryResultSizeLimitExceededException"}
        found = found[: min(top if top is not None else WIQL_LIMIT, WIQL_LIMIT)]
        return 200, {
            "queryType": "flat",
            "queryResultType": "workItem",
            "asOf": stamp(as_of),
            "columns": [{"referenceName": "System.Id", "name": "ID",
                         "url": "https://dev.azure.com/fabrikam/_apis/wit/fields/System.Id"}],
            "sortColumns": [
                {"field": {"referenceName": name, "name": name.split(".")[-1],
                           "url": f"https://dev.azure.com/fabrikam/_apis/wit/fields/{name}"},
                 "descending": False}
                for name in order
            ],
            "workItems": [{"id": row["System.Id"],
                           "url": f"https://dev.azure.com/fabrikam/_apis/wit/workItems/{row['System.Id']}"}
                          for row in found],
        }

    def batch(self, body: dict[str, Any]) -> tuple[int, Any]:
        ids = body.get("ids") or []
        if not isinstance(ids, list) or not ids:
            return 400, {"message": "VS403496: The ids parameter is required."}
        if len(ids) > BATCH_LIMIT:
            return 400, {"message": f"VS403474: The maximum number of work items to get is {BATCH_LIMIT}."}
        as_of = parse_stamp(body["asOf"]) if body.get("asOf") else None
        wanted = body.get("fields")
        omit = str(body.get("errorPolicy", "fail")).lower() == "omit"
        value: list[dict[str, Any] | None] = []
        with self.lock:
            for item_id in ids:
                revision = self._as_of(int(item_id), as_of)
                if revision is None:
                    if omit:
                        value.append(None)
                        continue
                    return 404, {"message": f"TF401232: Work item {item_id} does not exist, or you do not "
                                            "have permissions to read it.",
                                 "typeKey": "WorkItemUnauthorizedAccessException"}
                fields = revision["fields"]
                if wanted:
                    fields = {name: fields[name] for name in wanted if name in fields}
                value.append({"id": revision["id"], "rev": revision["rev"], "fields": fields,
                              "url": f"https://dev.azure.com/fabrikam/_apis/wit/workItems/{revision['id']}"})
                self.served.append(revision["id"])
        return 200, {"count": len(value), "value": value}

    def team_iterations(self) -> dict[str, Any]:
        def when(at: datetime | None) -> str | None:
            return None if at is None else at.strftime("%Y-%m-%dT00:00:00Z")

        def frame(iteration: FakeIteration) -> str:
            if iteration.finish is not None and iteration.finish < self.now:
                return "past"
            if iteration.start is not None and iteration.start <= self.now:
                return "current"
            return "future"

        value = [
            {"id": iteration.id, "name": iteration.name, "path": iteration.path,
             "attributes": {"startDate": when(iteration.start), "finishDate": when(iteration.finish),
                            "timeFrame": frame(iteration)},
             "url": f"https://dev.azure.com/fabrikam/Fabrikam/_apis/work/teamsettings/iterations/{iteration.id}"}
            for iteration in self.iterations
        ]
        return {"count": len(value), "value": value}

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
        revisions = self.items[item_id]
        rev = revisions[-1]["rev"] + 1 if revisions else 1
        fields = {**(revisions[-1]["fields"] if revisions else {}), **changes}
        # Every revision is stamped, as DevOps does (the sync pages by these two).
        fields.update({"System.Rev": rev, "System.ChangedDate": stamp(self.now)})
        new = {"id": item_id, "rev": rev, "fields": {k: v for k, v in fields.items() if v is not None}}
        revisions.append(new)
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


# A WIQL subset: SELECT … FROM WorkItems [WHERE cond] [ORDER BY [f] [ASC|DESC], …] where cond
# is comparisons of a field with a literal or @project, joined by AND / OR, in parentheses.
_TOKEN = re.compile(r"\s*(?:(\[[^\]]+\])|('(?:[^']|'')*')|(@\w+)|(-?\d+)|(<>|>=|<=|=|<|>)|(\(|\))|(\w+)|(,))",
                    re.IGNORECASE)


def _value(row: dict[str, Any], name: str) -> Any:
    value = row.get(name)
    if name.endswith("Date") and isinstance(value, str):
        return parse_stamp(value)
    return value


@dataclass
class _Cond:
    op: str  # 'and' | 'or' | a comparison
    parts: list[_Cond] = field(default_factory=list)
    name: str = ""
    literal: Any = None

    def literals(self) -> list[Any]:
        return [self.literal] if not self.parts else [v for p in self.parts for v in p.literals()]

    def holds(self, row: dict[str, Any]) -> bool:
        if self.op == "and":
            return all(p.holds(row) for p in self.parts)
        if self.op == "or":
            return any(p.holds(row) for p in self.parts)
        value = _value(row, self.name)
        if value is None:
            return self.op == "<>"
        compare = {"=": value == self.literal, "<>": value != self.literal, ">": value > self.literal,
                   ">=": value >= self.literal, "<": value < self.literal, "<=": value <= self.literal}
        return compare[self.op]


def _parse_wiql(text: str, project: str) -> tuple[_Cond, list[str]]:
    tokens: list[str] = []
    rest = text.strip()
    while rest:
        match = _TOKEN.match(rest)
        if match is None:
            raise ValueError(f"cannot read {rest[:20]!r}")
        tokens.append(match.group(0).strip())
        rest = rest[match.end():].lstrip()
    upper = [t.upper() for t in tokens]
    if upper[:1] != ["SELECT"] or "FROM" not in upper:
        raise ValueError("expected SELECT … FROM WorkItems")
    at = upper.index("FROM") + 1
    if upper[at:at + 1] != ["WORKITEMS"]:
        raise ValueError("only flat queries FROM WorkItems")
    at += 1

    def literal(token: str) -> Any:
        if token.startswith("'"):
            text = token[1:-1].replace("''", "'")
            try:
                return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
            except ValueError:
                return text
        if token.upper() == "@PROJECT":
            return project
        return int(token)

    def primary() -> _Cond:
        nonlocal at
        if tokens[at] == "(":
            at += 1
            inner = disjunction()
            if tokens[at] != ")":
                raise ValueError("unbalanced parentheses")
            at += 1
            return inner
        name, op, value = tokens[at], tokens[at + 1], tokens[at + 2]
        if not name.startswith("[") or op not in ("=", "<>", ">", ">=", "<", "<="):
            raise ValueError(f"expected a comparison at {name!r}")
        at += 3
        return _Cond(op, name=name[1:-1], literal=literal(value))

    def conjunction() -> _Cond:
        nonlocal at
        parts = [primary()]
        while at < len(tokens) and upper[at] == "AND":
            at += 1
            parts.append(primary())
        return parts[0] if len(parts) == 1 else _Cond("and", parts)

    def disjunction() -> _Cond:
        nonlocal at
        parts = [conjunction()]
        while at < len(tokens) and upper[at] == "OR":
            at += 1
            parts.append(conjunction())
        return parts[0] if len(parts) == 1 else _Cond("or", parts)

    condition = _Cond("and", [])
    if at < len(tokens) and upper[at] == "WHERE":
        at += 1
        condition = disjunction()
    order: list[str] = []
    if at < len(tokens) and upper[at] == "ORDER":
        at += 2  # ORDER BY
        while at < len(tokens):
            token = tokens[at]
            if not token.startswith("["):
                raise ValueError(f"expected a field to order by at {token!r}")
            order.append(token[1:-1])
            at += 1
            if at < len(tokens) and upper[at] in ("ASC", "DESC"):
                if upper[at] == "DESC":
                    raise ValueError("this stand-in orders ascending only")
                at += 1
            if at < len(tokens) and tokens[at] == ",":
                at += 1
    if at != len(tokens):
        raise ValueError(f"unexpected {tokens[at]!r}")
    return condition, order or ["System.Id"]


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

        def _checked(self) -> tuple[str, dict[str, list[str]]] | None:
            path, _, query = self.path.partition("?")
            fake.requests.append((self.command, self.path))
            if self.headers.get("Authorization") != expected_auth:
                self._answer(401, {"message": "bad PAT"})
                return None
            params = parse_qs(query)
            if params.get("api-version") != ["7.1"]:
                self._answer(400, {"message": "api-version 7.1 is required"})
                return None
            return path, params

        def _faulted(self, route: str) -> bool:
            """Whether an injected fault answered this request instead."""
            how = fake._count(route)
            if how == "500":
                self._answer(500, {"message": "injected failure", "typeKey": "InternalServerErrorException"})
                return True
            if how == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return True
            return False

        def _route(self) -> tuple[int, int | None] | None:
            checked = self._checked()
            if checked is None:
                return None
            path = checked[0]
            match = _ITEM.match(path)
            if match is None:
                self._answer(404, {"message": "no such route"})
                return None
            return int(match[1]), int(match[2]) if match[2] else None

        def do_POST(self) -> None:
            checked = self._checked()
            if checked is None:
                return
            path, params = checked
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            wiql = _WIQL.match(path)
            if wiql:
                if self._faulted("wiql"):
                    return
                top = params.get("$top")
                self._answer(*fake.query(str(body.get("query", "")), int(top[0]) if top else None,
                                         params.get("timePrecision") == ["true"], unquote(wiql[1])))
            elif _BATCH.match(path):
                if self._faulted("workitemsbatch"):
                    return
                self._answer(*fake.batch(body))
            else:
                self._answer(404, {"message": "no such route"})

        def do_GET(self) -> None:
            checked_path = self.path.partition("?")[0]
            if _ITERATIONS.match(checked_path):
                if self._checked() is None or self._faulted("iterations"):
                    return
                self._answer(200, fake.team_iterations())
                return
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

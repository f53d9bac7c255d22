"""Tenant isolation, proven by walking every route of the app (SPEC §1: no request shows one
tenant's data to another).

The walker reads the app's own route table, so a route added later is walked without
anyone editing this file. Tenant B ("bravo-victim") is given data through every create
endpoint the schema offers; then tenant A calls every route — with B's ids in every path
parameter, every string query parameter and every string body field — and must never
get a success on B's objects, never see B's ids, slug or e-mail, and never change what
B sees. ``test_the_walker_catches_a_planted_cross_tenant_leak`` plants a leaky route to
show the walker bites.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import jwt
import pytest
from litestar import Controller, get
from litestar.params import PathParameter
from litestar.routes import HTTPRoute

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import api_client, bearer, signup, token

VICTIM = "bravo-victim"
VICTIM_EMAIL = f"admin@{VICTIM}.test"
#: The text B's created objects carry (``give_data``'s string fields).
VICTIM_TEXT = "victim-data"
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
_WRITE = {"POST", "PUT", "PATCH", "DELETE"}
ODATA = "/api/odata/"
#: 500s of other slices that are not isolation faults, reported to their owners and tracked
#: as strict xfails by ``test_fuzz.py`` (its KNOWN_DEFECTS); delete a line once fixed.
KNOWN_SERVER_ERRORS = {
}


def tenant_routes(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path) of every tenant API route, straight from the app's route table (the
    Reporting API's OData routes under /api/odata/ too)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(("/api/v1/", ODATA)):
            continue
        if route.path.startswith("/api/v1/operator"):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                yield method, route.path


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def example(schema: dict[str, Any], components: dict[str, Any], fill: str, depth: int = 0) -> Any:
    """A value shaped like ``schema`` whose strings are ``fill`` (an id of the other tenant)."""
    schema = _resolve(schema, components)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o, components).get("type") != "null"]
            return example(options[0], components, fill, depth) if options else None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" and depth < 4:
        props = schema.get("properties", {})
        return {name: example(props[name], components, fill, depth + 1) for name in props}
    if kind == "array":
        return []
    if kind == "integer" or kind == "number":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "boolean":
        return False
    if kind == "string":
        return {"date": "2026-01-05", "date-time": "2026-01-05T10:00:00Z"}.get(schema.get("format", ""), fill)
    return None


class Schema:
    def __init__(self, app: Any) -> None:
        self.doc = app.openapi_schema.to_schema()
        self.components = self.doc.get("components", {}).get("schemas", {})

    def operation(self, method: str, path: str) -> dict[str, Any]:
        plain = _PARAM.sub(lambda m: "{" + m.group(1) + "}", path)
        return dict(self.doc["paths"].get(plain, {}).get(method.lower(), {}))

    def body(self, method: str, path: str, fill: str) -> Any:
        content = self.operation(method, path).get("requestBody", {}).get("content", {})
        json_schema = content.get("application/json", {}).get("schema")
        body = example(json_schema, self.components, fill) if json_schema else None
        if isinstance(body, dict) and isinstance(body.get("ids"), list):
            # A batch names worklogs by ``ids``: walk it with B's id in the list, not an empty one.
            body["ids"] = [fill]
        return body

    def queries(self, method: str, path: str, fill: str | None) -> dict[str, str]:
        """String query parameters set to ``fill`` (when given); integer ones to their minimum,
        which also ends streams that take a ``limit`` after one event."""
        found: dict[str, str] = {}
        for p in self.operation(method, path).get("parameters", []):
            if p.get("in") != "query":
                continue
            param = _resolve(p.get("schema", {}), self.components)
            options = param.get("oneOf", param.get("anyOf", []))
            kinds = [_resolve(o, self.components).get("type") for o in options]
            kinds.append(param.get("type"))
            if "string" in kinds and fill is not None and "format" not in param:
                found[p["name"]] = fill
            elif "integer" in kinds:
                low = [o.get("minimum") for o in param.get("oneOf", []) if "minimum" in o]
                found[p["name"]] = str(int(param.get("minimum", low[0] if low else 1)))
        return found


def collect_ids(value: Any, found: set[str], numbers: set[str] | None = None) -> None:
    """B's string ids into ``found``; its integer ids (work items, iterations: numbered per
    tenant, so A has the same numbers for its own objects) into ``numbers``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and (key == "id" or key.endswith("_id")) and len(item) >= 8:
                found.add(item)
            elif (numbers is not None and isinstance(item, int) and not isinstance(item, bool)
                  and (key == "id" or key.endswith("_id"))):
                numbers.add(str(item))
            collect_ids(item, found, numbers)
    elif isinstance(value, list):
        for item in value:
            collect_ids(item, found, numbers)


def call(client: Any, method: str, path: str, headers: dict[str, str], body: Any = None,
         params: dict[str, str] | None = None) -> Any:
    kwargs: dict[str, Any] = {"headers": headers, "params": params or {}}
    if body is not None and method in _WRITE:
        kwargs["json"] = body
    return client.request(method, path, **kwargs)


def readable(response: Any) -> str:
    """The answer as text to look for B's markers in: a ZIP (the tenant archive) is deflated,
    so its members are read out."""
    if not response.headers.get("content-type", "").startswith("application/zip"):
        return str(response.text)
    with zipfile.ZipFile(io.BytesIO(response.content)) as opened:
        return "\n".join(opened.read(name).decode("utf-8", "replace") for name in opened.namelist())


#: Reads that leave a trace in B's own view (each download of the archive is audited), so
#: B's snapshots would change B's view: A's calls to them are still walked and checked.
AUDITED_READS = frozenset({"/api/v1/export"})


def snapshot(
    client: Any, schema: Schema, routes: list[tuple[str, str]], headers: dict[str, str]
) -> dict[str, Any]:
    """What B sees on every list and detail it can reach without parameters."""
    seen: dict[str, Any] = {}
    for method, path in routes:
        if method == "GET" and not _PARAM.search(path) and path not in AUDITED_READS:
            response = client.get(path, headers=headers, params=schema.queries(method, path, None))
            seen[path] = (response.status_code, response.text)
    return seen


def give_data(client: Any, schema: Schema, routes: list[tuple[str, str]], headers: dict[str, str]) -> None:
    """B creates what it can through every create route (failures are fine: not every body fits)."""
    for method, path in routes:
        if method == "POST" and not _PARAM.search(path) and "/auth/" not in path and "signup" not in path:
            call(client, method, path, headers, schema.body(method, path, "victim-data"))
    client.post("/api/v1/me/tokens", json={"name": "victim token", "expires_in_days": 30}, headers=headers)
    # And a scoped one (read-only reporting), so the scoped kind is among B's tokens too.
    client.post("/api/v1/me/tokens", json={"name": "victim reporting", "expires_in_days": 30,
                                           "scopes": ["reporting:read"]}, headers=headers)
    # A work item tree with time on it (the generated body names a parent B does not have).
    for body in ({"title": "victim-data epic", "type": "Epic"},
                 {"title": "victim-data task", "type": "Task", "parent_id": 1}):
        client.post("/api/v1/work-items", json=body, headers=headers)
    client.post("/api/v1/worklogs", json={"started_at": "2026-01-05T09:00:00Z", "length_s": 600,
                                          "work_item": 2, "comment": "victim-data"}, headers=headers)
    # A submitted week, so the approval queue has one of B's weeks to (not) show A.
    client.post("/api/v1/weeks/2026-W02/submit", headers=headers)
    # An invoice, so the invoice routes (its PDF) are walked with one of B's ids.
    terms = {"plan": "team", "interval": "monthly", "seats": 1}
    bought = client.post("/api/v1/subscription/purchase", json=terms, headers=headers)
    assert bought.status_code == 200, bought.text
    # A budget (the schema's example money has no valid currency), assigned to B's first work item
    # and to its worklogs, so its id appears in B's lists and answers.
    budget = client.post("/api/v1/budgets", json={"name": "victim budget", "amount": {"amount": 500_000},
                                                  "hourly_rate": {"amount": 9_000}}, headers=headers)
    if budget.status_code == 201:
        logs = client.get("/api/v1/worklogs", params={"from": "2000-01-01T00:00:00Z"}, headers=headers)
        worklogs = [w["id"] for w in logs.json().get("items", [])] if logs.status_code == 200 else []
        client.post(f"/api/v1/budgets/{budget.json()['id']}/assign",
                    json={"work_items": [1], "worklogs": worklogs[:1]}, headers=headers)


def walk(client: Any) -> list[str]:
    """Every violation of isolation found by walking the app as tenant A against tenant B."""
    app = client.app
    routes = sorted(set(tenant_routes(app)))
    schema = Schema(app)
    signup(client, "alpha-walker")
    signup(client, VICTIM)
    attacker = bearer(token(client, "alpha-walker", "admin@alpha-walker.test"))
    victim_token = token(client, VICTIM, VICTIM_EMAIL)
    victim = bearer(victim_token)

    give_data(client, schema, routes, victim)
    victim_ids: set[str] = {jwt.decode(victim_token, options={"verify_signature": False})["tid"]}
    victim_numbers: set[str] = set()
    for method, path in routes:
        if method == "GET" and not _PARAM.search(path):
            response = client.get(path, headers=victim, params=schema.queries(method, path, None))
            if response.headers.get("content-type", "").startswith("application/json"):
                collect_ids(response.json(), victim_ids, victim_numbers)
    # Installation-wide values (the on-premises server id) are A's as much as B's.
    own_view = json.dumps(snapshot(client, schema, routes, attacker))
    victim_ids = {i for i in victim_ids if i not in own_view}
    assert len(victim_ids) >= 3, f"the walker found too few of B's objects to be meaningful: {victim_ids}"
    markers = [*victim_ids, VICTIM, VICTIM_EMAIL]
    # What B wrote into its objects (titles, comments): an object reached by a per-tenant
    # number shows itself by its text, as the number alone is A's as much as B's.
    if VICTIM_TEXT not in own_view:
        markers.append(VICTIM_TEXT)
    before = snapshot(client, schema, routes, victim)

    problems: list[str] = []

    def check(
        method: str, path: str, response: Any, with_id: bool, sent: str = "", template: str = ""
    ) -> None:
        text = readable(response)
        # What A sent may be echoed back (a 422 naming the bad value): only the rest is a leak.
        leaked = [m for m in markers if m in text and m != sent]
        if leaked:
            problems.append(f"{method} {path} → {response.status_code} shows B's {leaked[0]!r}")
        elif with_id and response.status_code < 400:
            problems.append(f"{method} {path} → {response.status_code} on B's object")
        elif response.status_code >= 500 and f"{method} {template}" not in KNOWN_SERVER_ERRORS:
            problems.append(f"{method} {path} → {response.status_code}")

    # Before A writes anything: A's own objects may carry B's ids as text (the walk fills
    # bodies with them), which the Reporting API would then rightly show A.
    problems += walk_odata(client, attacker, victim, victim_ids, victim_numbers, check)
    for method, path in routes:
        if "/auth/" in path or path.endswith("/signup"):
            continue
        has_params = bool(_PARAM.search(path))
        for victim_id in sorted(victim_ids):
            url = _PARAM.sub(victim_id, path)
            queries = schema.queries(method, path, victim_id)
            response = call(client, method, url, attacker, schema.body(method, path, victim_id), queries)
            check(method, url, response, with_id=has_params, sent=victim_id, template=path)
        if has_params:
            # B's per-tenant numbers: A may own the same number (a success is no leak), but
            # B's text must never come back.
            for number in sorted(victim_numbers):
                url = _PARAM.sub(number, path)
                response = call(client, method, url, attacker, schema.body(method, path, "x"), {})
                check(method, url, response, with_id=False, sent=number, template=path)
        if not has_params:
            plain = call(client, method, path, attacker, schema.body(method, path, "x"),
                         schema.queries(method, path, None))
            check(method, path, plain, False, template=path)

    after = snapshot(client, schema, routes, victim)
    for path, seen in before.items():
        if after.get(path) != seen:
            problems.append(f"B's view of {path} changed while A walked: {seen} → {after.get(path)}")
    return list(dict.fromkeys(problems))


def odata_probes(entity_set: str) -> list[dict[str, str]]:
    """Every kind of OData option on ``entity_set``: plain, counted, each navigation expanded,
    filtered through each navigation, grouped and aggregated."""
    from core.reporting import MODEL

    found = MODEL[entity_set]
    probes: list[dict[str, str]] = [{}, {"$count": "true", "$top": "1000"}]
    for nav in found.navigations:
        target = MODEL[nav.target]
        probes.append({"$expand": nav.name})
        probes.append({"$filter": f"{nav.name}/{target.key} ne null", "$expand": nav.name})
        probes.append({"$apply": f"groupby(({nav.name}/{target.key}),aggregate($count as N))"})
    probes.append({"$apply": f"groupby(({found.key}),aggregate($count as N))"})
    probes.append({"$apply": f"aggregate({found.key} with countdistinct as N)"})
    moments = [p.name for p in found.properties if p.edm.temporal]
    if moments:  # grouped by a computed date part (time per user per month)
        probes.append({"$apply": f"compute(month({moments[0]}) as M)/groupby((M),aggregate($count as N))"})
    return probes


def walk_odata(client: Any, attacker: dict[str, str], victim: dict[str, str], victim_ids: set[str],
               victim_numbers: set[str], check: Any) -> list[str]:
    """The Reporting API: every entity set with every kind of option, keys of B's objects, and
    B's own ``@odata.nextLink`` followed by A (a cursor is bound to its tenant and user)."""
    from core.reporting import MODEL

    problems: list[str] = []
    base = "/api/odata/v1"
    for name in MODEL:
        for params in odata_probes(name):
            response = client.get(f"{base}/{name}", params=params, headers=attacker)
            check("GET", f"{base}/{name}?{params}", response, False, template=f"{base}/{{entity_set}}")
            if response.status_code != 200:
                problems.append(f"GET {base}/{name} {params} → {response.status_code}: {response.text[:200]}")
        for victim_id in sorted(victim_ids):
            url = f"{base}/{name}('{victim_id}')"
            check("GET", url, client.get(url, headers=attacker), True, sent=victim_id)
        for number in sorted(victim_numbers):
            url = f"{base}/{name}({number})"
            check("GET", url, client.get(url, headers=attacker), False, sent=number)
        mine = client.get(f"{base}/{name}", headers={**victim, "Prefer": "odata.maxpagesize=1"})
        link = mine.json().get("@odata.nextLink") if mine.status_code == 200 else None
        if link is not None:
            crafted = client.get("/" + link.split("://", 1)[1].split("/", 1)[1], headers=attacker)
            check("GET", f"B's nextLink of {name}", crafted, True)
            if crafted.status_code != 400:
                problems.append(f"B's nextLink of {name} followed by A → {crafted.status_code}")
    return problems


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Any:
    settings = make_settings(database_url, tmp_path, STINT_RATE_LIMIT_API="1000000",
                             STINT_RATE_LIMIT_CLIENT="1000000")
    with api_client(settings, clock) as c:
        yield c


def test_no_route_lets_one_tenant_reach_another_tenants_data(client: Any) -> None:
    """Every tenant route, called by A with B's ids, answers 4xx, shows and changes nothing of B.

    How it was checked: the tenant filter was dropped from ``PiccoloTokenRepository.revoke_pat``
    by hand, and the walk reported ``DELETE /api/v1/me/tokens/<B's token id> → 204 on B's
    object`` and "B's view of /api/v1/me/tokens changed"; the planted route below is
    reported on every run.
    """
    problems = walk(client)
    assert not problems, "\n".join(problems)


class PlantedLeak(Controller):
    """A deliberately broken route: it reads a user by id without the caller's tenant."""

    path = "/planted-leak"

    @get("/{user_id:str}")
    async def leak(self, user_id: Annotated[str, PathParameter(max_length=64)]) -> dict[str, Any]:
        from plugins.storage.tables import TenantUser

        row = await TenantUser.select(TenantUser.person_id.email).where(TenantUser.id == user_id).first()
        return {"email": row["person_id.email"]} if row else {}


def test_the_walker_catches_a_planted_cross_tenant_leak(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a leaky route added to the tenant API, the walk reports it by path."""
    from web import routes

    real = routes.tenant_routes
    monkeypatch.setattr(routes, "tenant_routes", lambda: [*real(), PlantedLeak])
    settings = make_settings(f"sqlite:///{tmp_path / 'stint.sqlite3'}", tmp_path,
                             STINT_RATE_LIMIT_API="1000000", STINT_RATE_LIMIT_CLIENT="1000000")
    with api_client(settings, clock) as leaky:
        problems = walk(leaky)
    planted = [p for p in problems if "/planted-leak/" in p]
    assert any("shows B's" in p for p in planted), json.dumps(problems, indent=1)


def unpaginated_lists(app: Any) -> list[str]:
    """GET routes that answer a list without cursor pagination (``cursor``, ``limit``, ``next_cursor``)."""
    schema = Schema(app)
    found = []
    for method, path in sorted(set(tenant_routes(app))):
        if method != "GET":
            continue
        operation = schema.operation(method, path)
        ok = operation.get("responses", {}).get("200", {})
        body = ok.get("content", {}).get("application/json", {}).get("schema")
        if not body:
            continue
        body = _resolve(body, schema.components)
        params = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        if body.get("type") == "array":
            found.append(f"{path} answers a bare list")
        elif "items" in body.get("properties", {}) and (
            not {"cursor", "limit"} <= params or "next_cursor" not in body["properties"]
        ):
            found.append(f"{path} lists without cursor, limit and next_cursor")
    return found


#: Lists that are not paginated yet, each with why and who owns it. Only ever shrinks: the test
#: fails when a listed route becomes paginated (remove it here) or another one is added.
KNOWN_UNPAGINATED: dict[str, str] = {}


def test_every_list_is_cursor_paginated(client: Any) -> None:
    """Every GET that answers a list takes ``cursor`` and ``limit`` and answers ``next_cursor``."""
    assert sorted(unpaginated_lists(client.app)) == sorted(KNOWN_UNPAGINATED)

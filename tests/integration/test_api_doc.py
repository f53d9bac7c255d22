"""docs/api.md, the stable surface, against the OpenAPI schema the app serves.

Every method and path the document lists must be an operation in the schema, and every field
a table row names in its bodies (``{tenant, email, password}``) a property or parameter of
that row's operations, unless the row says it is planned: a renamed or removed route or
field fails here until the document follows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from server.app import create_app
from tests.conftest import make_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_TOKEN = re.compile(r"`([^`]+)`")
_CALL = re.compile(r"^((?:GET|POST|PUT|PATCH|DELETE)(?:[/|](?:GET|POST|PUT|PATCH|DELETE))*)(?:\s+(\S+))?")


def _shape(path: str) -> str:
    """A path with its parameters unnamed: ``{id}`` and ``{worklog_id}`` are the same place."""
    return re.sub(r"\{[^}]*\}", "{}", path.split("?", 1)[0].rstrip("/") or "/")


def documented_calls(text: str) -> set[tuple[str, str]]:
    """(METHOD, path shape) for each call the document lists outside rows marked *planned*.

    A heading that says *planned* skips its whole section. A row may abbreviate:
    `` `POST` `` repeats the row's last path with another method, `` `PATCH /{id}` `` extends
    it, `` `…/resume` `` replaces its last segment, and ``[/{id}]`` is optional."""
    found: set[tuple[str, str]] = set()
    planned_section = False
    for line in text.splitlines():
        if line.startswith("#"):
            planned_section = "planned" in line.lower()
        if planned_section or "planned" in line.lower():
            continue
        base: str | None = None
        last_methods: list[str] = []
        for token in _TOKEN.findall(line):
            methods: list[str] = []
            call = _CALL.match(token)
            if call:
                methods = re.split(r"[/|]", call.group(1))
                path = call.group(2) or base
            elif token.startswith("…/") and base is not None:
                path = base.rsplit("/", 1)[0] + token[1:]
                methods = last_methods
            else:
                continue
            if path is None:
                continue
            extension = path.startswith("/{") and base is not None
            if extension:
                path = f"{base}{path}"
            if not path.startswith("/"):
                continue
            last_methods = methods
            for option in ([path.replace("[", "").replace("]", ""), re.sub(r"\[.*?\]", "", path)]
                           if "[" in path else [path]):
                for method in methods:
                    found.add((method, _shape(option)))
            if not extension:  # `PATCH /{id}` · `DELETE /{id}`: both extend the row's path
                base = re.sub(r"\[.*?\]", "", path).split("?", 1)[0]
    return found


#: A field name inside ``{…}``: after ``{``, ``,`` or ``[{``, before ``?``, ``,``, ``:`` or ``}``
#: (so ``amount?: money`` names ``amount``, not the type ``money``).
_FIELD = re.compile(r"(?:^|[{,]\s*)([a-z_][a-z0-9_]*)\??\s*(?=[,:}])")
#: Named in a problem's ``errors[]`` items, which the Problem schema leaves open.
_PROBLEM_FIELDS = {"line", "reason", "index", "code"}


def documented_fields(line: str) -> set[str]:
    """The field names a table row's body → answer column shows."""
    cells = line.split(" | ")
    if len(cells) < 2:
        return set()
    column = re.sub(r'"[^"]*"', "", cells[1])
    return {name for block in _TOKEN.findall(column) if "{" in block for name in _FIELD.findall(block)}


def _names(node: Any, schemas: dict[str, Any], seen: set[str]) -> set[str]:
    """Every property name reachable from ``node`` (through ``$ref``s, not into examples)."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                found |= _names(schemas[name], schemas, seen)
            return found
        for key, value in node.items():
            if key == "properties":
                found |= set(value)
            if key not in ("examples", "example", "links"):
                found |= _names(value, schemas, seen)
    elif isinstance(node, list):
        for value in node:
            found |= _names(value, schemas, seen)
    return found


@pytest.fixture
def schema(tmp_path: Path) -> dict[str, Any]:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'stint.sqlite3'}", tmp_path))
    return dict(app.openapi_schema.to_schema())


def _operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), _shape(path)): op
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method.upper() in METHODS
    }


@pytest.fixture
def served(schema: dict[str, Any]) -> set[tuple[str, str]]:
    return set(_operations(schema))


def test_every_call_docs_api_md_lists_is_in_the_openapi_schema(served: set[tuple[str, str]]) -> None:
    """A documented route that the app no longer serves (renamed, removed) fails here."""
    documented = documented_calls(DOC.read_text())
    assert len(documented) > 50
    missing = sorted(documented - served)
    assert missing == [], f"docs/api.md lists calls the OpenAPI schema lacks: {missing}"


def test_every_field_a_table_row_names_is_in_its_operations(schema: dict[str, Any]) -> None:
    """A documented body or answer field that no operation of its row has (renamed, dropped)
    fails here."""
    operations = _operations(schema)
    schemas = schema["components"]["schemas"]
    missing: list[tuple[str, list[str]]] = []
    checked = 0
    planned_section = False
    for line in DOC.read_text().splitlines():
        if line.startswith("#"):
            planned_section = "planned" in line.lower()
        if planned_section or "planned" in line.lower() or not line.startswith("| `"):
            continue
        fields = documented_fields(line) - _PROBLEM_FIELDS
        have: set[str] = set()
        for call in documented_calls(line):
            op = operations.get(call, {})
            have |= _names({k: op.get(k) for k in ("requestBody", "responses")}, schemas, set())
            have |= {p["name"] for p in op.get("parameters", [])}
        checked += len(fields)
        if fields - have:
            missing.append((line[:60], sorted(fields - have)))
    assert checked > 100
    assert missing == [], f"docs/api.md names fields the OpenAPI schema lacks: {missing}"


def test_a_renamed_field_is_reported(schema: dict[str, Any]) -> None:
    """The field check bites: a row naming a field its operation does not have is caught."""
    row = "| `POST /api/v1/auth/token` | `{tenant, e_mail, password}` → `{access_token}` |"
    assert documented_fields(row) == {
        "tenant", "e_mail", "password", "access_token",
    }
    operation = _operations(schema)[("POST", "/api/v1/auth/token")]
    have = _names(operation, schema["components"]["schemas"], set())
    assert "e_mail" not in have and {"tenant", "email", "password", "access_token"} <= have


def test_the_reader_of_abbreviated_rows_expands_them() -> None:
    """The shorthand the document uses is read as the calls it stands for."""
    row = ("| `GET /api/v1/budgets` · `POST` · `GET/PATCH /api/v1/budgets/{id}` | |\n"
           "| `POST /api/v1/subscription/cancel` · `…/resume` | |\n"
           "| `GET /api/v1/worklogs` · `PATCH /{id}` | |\n"
           "| `GET/POST/DELETE /api/v1/explorer/views[/{id}]` (planned) | |\n")
    assert documented_calls(row) == {
        ("GET", "/api/v1/budgets"), ("POST", "/api/v1/budgets"), ("GET", "/api/v1/budgets/{}"),
        ("PATCH", "/api/v1/budgets/{}"), ("POST", "/api/v1/subscription/cancel"),
        ("POST", "/api/v1/subscription/resume"), ("GET", "/api/v1/worklogs"),
        ("PATCH", "/api/v1/worklogs/{}"),
    }


def test_a_route_missing_from_the_schema_is_reported(served: set[tuple[str, str]]) -> None:
    """The check bites: a documented call the app does not serve is named."""
    documented = documented_calls("| `DELETE /api/v1/worklogs/{id}/history` | |")
    assert sorted(documented - served) == [("DELETE", "/api/v1/worklogs/{}/history")]

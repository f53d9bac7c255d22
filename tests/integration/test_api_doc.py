"""docs/api.md, the stable surface, against the OpenAPI schema the app serves.

Every method and path the document lists must be an operation in the schema, unless its row
says it is planned: a renamed or removed route fails here until the document follows.
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


@pytest.fixture
def served(tmp_path: Path) -> set[tuple[str, str]]:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'stint.sqlite3'}", tmp_path))
    schema: dict[str, Any] = dict(app.openapi_schema.to_schema())
    return {
        (method.upper(), _shape(path))
        for path, item in schema["paths"].items()
        for method in item
        if method.upper() in METHODS
    }


def test_every_call_docs_api_md_lists_is_in_the_openapi_schema(served: set[tuple[str, str]]) -> None:
    """A documented route that the app no longer serves (renamed, removed) fails here."""
    documented = documented_calls(DOC.read_text())
    assert len(documented) > 50
    missing = sorted(documented - served)
    assert missing == [], f"docs/api.md lists calls the OpenAPI schema lacks: {missing}"


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

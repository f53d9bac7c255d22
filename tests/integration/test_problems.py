"""What ``web/problems.py`` does beyond Litestar's problem-details plugin, through the real app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar import get
from litestar.testing import TestClient

from core.clock import FixedClock
from server.app import create_app
from tests.conftest import make_settings

PROBLEM = "application/problem+json"


@get("/test/boom", sync_to_thread=False, include_in_schema=False)
def boom() -> None:
    raise RuntimeError("a defect")


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Any:
    app = create_app(make_settings(database_url, tmp_path), clock=clock, migrate=True)
    app.register(boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_an_unexpected_error_is_a_problem_that_names_the_request(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A defect answers 500 problem+json with a stable code and the request id to quote to
    support, and says nothing about the defect itself."""
    response = client.get("/test/boom", headers={"X-Request-ID": "support-quote-1"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == "internal_error"
    assert "support-quote-1" in body["detail"] and "a defect" not in response.text
    assert any(record.exc_info for record in caplog.records)  # the defect is in the log


def test_bad_input_is_a_422_problem_naming_each_field(client: Any) -> None:
    """Litestar's own answer would be a 400 with its raw list under ``extra``."""
    response = client.post("/api/v1/signup", json={"tenant": 7})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == "validation_error"
    fields = [error["field"] for error in body["errors"]]
    assert fields and all(field in body["detail"] for field in fields)


def test_the_openapi_schema_documents_errors_as_problems(client: Any) -> None:
    """Every documented 4xx/5xx of the API is problem+json with the Problem schema, and an
    operation that takes input documents its 422. (The Reporting API under /api/odata/ speaks
    OData, and the OAuth endpoints under /oauth/ speak OAuth (RFC 6749 §5.2): their errors are
    those protocols' JSON errors, documented as such.)"""
    schema = client.get("/schema/openapi.json").json()
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    signup = schema["paths"]["/api/v1/signup"]["post"]["responses"]
    assert signup["422"]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert signup["422"]["content"][PROBLEM]["examples"]["example"]["value"]["status"] == 422
    for name, path in schema["paths"].items():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                if status[0] in "45" and name.startswith("/api/odata/"):
                    error = response["content"]["application/json"]["schema"]["properties"]["error"]
                    assert set(error["required"]) == {"code", "message"}, (name, status)
                elif status[0] in "45" and name.startswith("/oauth/"):
                    oauth = response["content"]["application/json"]["schema"]
                    assert oauth["required"] == ["error"], (name, status)
                elif status[0] in "45":
                    assert list(response.get("content", {PROBLEM: None})) == [PROBLEM], (status, response)


@pytest.mark.parametrize(
    ("method", "path", "options"),
    [
        ("GET", "/api/v1/users/a%00b/working-hours", {}),
        ("DELETE", "/api/v1/me/tokens/a%00b", {}),
        ("GET", "/api/v1/work-items", {"params": {"search": "a\x00b"}}),
        ("GET", "/api/v1/worklogs/all", {"params": {"users": "a\x00b"}}),
        ("POST", "/api/v1/worklogs/batch-delete", {"json": {"ids": ["a\x00b"]}}),
    ],
)
def test_text_holding_u0000_is_answered_as_bad_input_never_a_500(
    client: Any, method: str, path: str, options: dict[str, Any]
) -> None:
    """Found by fuzzing the API on PostgreSQL: its text cannot hold U+0000, so an id, a
    filter or a body's ids holding one failed the statement (500 on some 40 operations).
    SQLite matches nothing (404 or an empty list); PostgreSQL refuses it as input (422)."""
    from tests.support.api import bearer, signup, token

    signup(client, "nul")
    headers = bearer(token(client, "nul", "admin@nul.test"))
    response = client.request(method, path, headers=headers, **options)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith(PROBLEM)

"""The OpenAPI schema's links, strict bodies, ids, security, problems and examples (web/openapi/)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from server.app import create_app
from tests.conftest import make_settings
from web.openapi import (
    EXAMPLES,
    LINKS,
    OPERATIONS,
    Link,
    document_links,
    document_operations,
    undocumented,
)


def _app(tmp_path: Path) -> Any:
    return create_app(make_settings(f"sqlite:///{tmp_path / 'stint.sqlite3'}", tmp_path))


@pytest.fixture
def schema(tmp_path: Path) -> dict[str, Any]:
    return dict(_app(tmp_path).openapi_schema.to_schema())


def _operations(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        op["operationId"]: op
        for item in schema["paths"].values()
        for method, op in item.items()
        if method in ("get", "put", "post", "delete", "patch")
    }


def _body_properties(schema: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    for option in body.get("oneOf", [body]):
        if "$ref" in option:
            return set(schema["components"]["schemas"][option["$ref"].rsplit("/", 1)[1]]["properties"])
    raise AssertionError(f"no object body in {operation['operationId']}")


def test_request_bodies_that_refuse_unknown_fields_say_so(schema: dict[str, Any]) -> None:
    """A body the server refuses unknown fields in is documented with additionalProperties: false,
    so a client built from the schema does not send what then answers 422."""
    components = schema["components"]["schemas"]
    for name in ("WorklogIn", "WorklogPatch", "SignupIn", "AdminIn", "NewUser", "TokenRequest", "IssueIn"):
        assert components[name]["additionalProperties"] is False, name
    # Answers are not requests: their schemas stay open to fields added later.
    assert "additionalProperties" not in components["WorklogOut"]


def test_a_created_worklog_links_to_changing_and_deleting_it(schema: dict[str, Any]) -> None:
    """``POST /api/v1/worklogs``'s 201 names the operations on the worklog it made, with its id."""
    links = schema["paths"]["/api/v1/worklogs"]["post"]["responses"]["201"]["links"]
    item = schema["paths"]["/api/v1/worklogs/{worklog_id}"]
    assert links["ChangeWorklog"] == {
        "operationId": item["patch"]["operationId"], "parameters": {"worklog_id": "$response.body#/id"},
    }
    assert links["DeleteWorklog"]["operationId"] == item["delete"]["operationId"]


def test_every_link_fills_parameters_its_target_takes(schema: dict[str, Any]) -> None:
    """Each link leads to an existing operation, names only parameters that operation has, and
    puts only documented fields in its body."""
    operations = _operations(schema)
    seen = 0
    for item in schema["paths"].values():
        for op in item.values():
            for response in op.get("responses", {}).values():
                for name, link in response.get("links", {}).items():
                    seen += 1
                    target = operations[link["operationId"]]
                    taken = {(p["in"], p["name"]) for p in target.get("parameters", [])}
                    for key in link.get("parameters", {}):
                        where, _, param = key.rpartition(".")
                        assert any(param == n and where in ("", place) for place, n in taken), (name, key)
                    body = link.get("requestBody")
                    if isinstance(body, dict):
                        assert set(body) <= _body_properties(schema, target), (name, body)
    assert seen == len(LINKS)


def test_refuses_a_link_to_an_operation_that_does_not_exist(tmp_path: Path) -> None:
    """A renamed route cannot leave a link pointing nowhere: building the schema fails."""
    app = _app(tmp_path)
    nowhere = Link("Gone", "POST /api/v1/worklogs", "201", "GET /api/v1/worklogs/{worklog_id}/nowhere")
    with pytest.raises(LookupError, match="no such operation"):
        document_links(app, (nowhere,))


def test_refuses_a_link_from_an_answer_the_operation_does_not_give(tmp_path: Path) -> None:
    """A link hangs on a documented status: a 201-only operation has no 200 to hang one on."""
    app = _app(tmp_path)
    wrong = Link("Change", "POST /api/v1/worklogs", "200", "PATCH /api/v1/worklogs/{worklog_id}")
    with pytest.raises(LookupError, match="answers no 200"):
        document_links(app, (wrong,))


def test_every_operation_has_a_camel_case_id_a_description_and_says_its_security(
    schema: dict[str, Any],
) -> None:
    """Ids are readable and unique; public routes say so with an empty security list."""
    ids: list[str] = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            ids.append(op["operationId"])
            assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", op["operationId"]), op["operationId"]
            assert op["description"] and op["summary"], (method, path)
            assert "security" in op, (method, path)
            if op["security"]:
                assert "401" in op["responses"], (method, path)
    assert len(ids) == len(set(ids))
    operations = _operations(schema)
    # A personal access token needs the route's scope; the description names it too.
    assert operations["createWorklog"]["security"] == [
        {"accessToken": []}, {"personalAccessToken": ["worklogs:write"]}
    ]
    assert operations["createWorklog"]["description"].endswith("Token scope: `worklogs:write`.")
    assert operations["listUsers"]["security"][1] == {"personalAccessToken": ["users:read"]}
    assert operations["signIn"]["security"] == []
    assert operations["listTenants"]["security"] == [{"operatorToken": []}]
    assert set(schema["components"]["securitySchemes"]) == {
        "accessToken", "personalAccessToken", "operatorToken", "reportingBasic",
    }


def test_problem_answers_follow_how_each_route_is_built(schema: dict[str, Any]) -> None:
    """Behind the access guard: 402 and 403; a path parameter: 404; a sign-in: 429; a week's
    worklogs: 423; all as problem+json with an example."""
    operations = _operations(schema)
    create = operations["createWorklog"]["responses"]
    assert {"400", "401", "402", "403", "409", "422", "423"} <= set(create)
    assert "404" not in create
    assert "404" in operations["changeWorklog"]["responses"]
    assert "429" in operations["signIn"]["responses"]
    assert "401" not in operations["signIn"]["responses"]
    locked = create["423"]["content"]["application/problem+json"]
    assert locked["examples"]["example"]["value"]["code"] == "week_locked"


def test_hand_written_examples_win_and_the_rest_are_built_from_the_schema(schema: dict[str, Any]) -> None:
    """Money and sign-in examples are the ones written in web/openapi/examples.py; an answer without one
    gets values of its schema's types and formats."""
    operations = _operations(schema)
    body = operations["quoteSubscriptionChange"]["requestBody"]["content"]["application/json"]
    assert body["examples"]["example"]["value"] == EXAMPLES["POST /api/v1/subscription/quote request"]
    me = operations["getMe"]["responses"]["200"]["content"]["application/json"]["examples"]["example"]
    assert me["value"]["email"] == "ana@example.com"


def test_every_route_has_an_entry_in_the_operations_table_and_every_entry_a_route(tmp_path: Path) -> None:
    """A new route needs its id and description in web.openapi.OPERATIONS; a removed one its
    entry gone."""
    assert undocumented(_app(tmp_path)) == ([], [])


def test_a_route_missing_from_the_table_is_named_and_meanwhile_gets_a_derived_id(tmp_path: Path) -> None:
    """Until the table has it, a route's id is derived from its method and path (still
    camelCase, still unique), and ``undocumented`` names it."""
    app = _app(tmp_path)
    partial = {k: v for k, v in OPERATIONS.items() if k != "POST /api/v1/worklogs"}
    partial["GET /api/v1/gone"] = ("getGone", "A route since removed.")
    document_operations(app, partial)
    operation = app.openapi_schema.to_schema()["paths"]["/api/v1/worklogs"]["post"]
    assert operation["operationId"] == "postWorklogs"
    assert operation["description"]
    assert undocumented(app, partial) == (["POST /api/v1/worklogs"], ["GET /api/v1/gone"])


def test_docs_serves_swagger_ui_from_the_package_under_the_csp_nonce(tmp_path: Path) -> None:
    """/docs is the render plugin's page: its script and style carry this answer's nonce, and
    Swagger UI's files come from /docs/assets/ (cacheable), never from another host."""
    from litestar.testing import TestClient

    with TestClient(_app(tmp_path)) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"])
        assert nonce is not None
        assert f"<script nonce='{nonce.group(1)}'>" in page.text
        assert f"<style nonce='{nonce.group(1)}'>" in page.text
        assert "https://" not in re.sub(r"<script nonce=.*?</script>", "", page.text, flags=re.S)
        script = client.get("/docs/assets/swagger-ui-bundle.js")
        assert script.status_code == 200 and "SwaggerUIBundle" in script.text
        assert "no-store" not in script.headers.get("cache-control", "")
        assert client.get("/docs/assets/../../server/app.py").status_code == 404

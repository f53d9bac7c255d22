"""The Reporting API in the schema: OData's answers and errors, not problems, and the
``{set}({key})`` path OData clients call.
"""

from __future__ import annotations

from typing import Any

from web.openapi.problem_answers import PROBLEM_DESCRIPTIONS

__all__ = ["ODATA_PREFIX", "add_entity_path", "document_odata"]

#: The Reporting API's routes answer OData's JSON errors, not problems.
ODATA_PREFIX = "/api/odata/v1"

_ODATA_ERRORS = {
    "400": "The query cannot be run: an unknown property, option or entity set, a malformed or too "
           "large expression, a `$skiptoken` of another query, user or tenant, or a query that took "
           "too long.",
    "404": "No such entity set, or no entity with that key (that the caller may see).",
    "501": "An OData feature Stint does not implement (a function, a transformation, arithmetic).",
}


def document_odata(operation: Any, statuses: list[str]) -> None:
    """An OData route: its answer is OData JSON (or CSDL XML), its errors OData's errors."""
    from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, RequestBody, Schema

    error = Schema(type=OpenAPIType.OBJECT, properties={"error": Schema(
        type=OpenAPIType.OBJECT, required=["code", "message"],
        properties={"code": Schema(type=OpenAPIType.STRING), "message": Schema(type=OpenAPIType.STRING)},
    )}, required=["error"])
    metadata = operation.operation_id == "getReportingMetadata"
    ok = OpenAPIResponse(
        description="The CSDL document" if metadata else "OData JSON (`@odata.context`, `value`, …)",
        content={"application/xml" if metadata else "application/json": OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.STRING) if metadata else Schema(type=OpenAPIType.OBJECT))},
    )
    responses = {"200": ok}
    for status in sorted({*statuses, "400", "501"} - {"409"}):
        responses[status] = OpenAPIResponse(
            description=_ODATA_ERRORS.get(status) or PROBLEM_DESCRIPTIONS.get(status, "An OData error"),
            content={"application/json": OpenAPIMediaType(schema=error)},
        )
    if operation.operation_id == "postReportingQuery":
        operation.request_body = RequestBody(
            required=True, description="The query options as a query string: `$filter=…&$top=10`",
            content={"text/plain": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
        )
    operation.responses = responses


def add_entity_path(openapi: Any, operations: dict[str, tuple[str, str]]) -> None:
    """``{set}({key})`` is served by the ``{entity_set}`` route (Litestar's parameters are whole
    segments); the schema names it as the path OData clients call."""
    import copy

    from litestar.openapi.spec import OpenAPIType, Parameter, PathItem, Schema

    item = (openapi.paths or {}).get(f"{ODATA_PREFIX}/{{entity_set}}")
    if item is None or item.get is None:
        return
    operation = copy.deepcopy(item.get)
    key = f"GET {ODATA_PREFIX}/{{entity_set}}({{key}})"
    operation.operation_id, operation.description = operations[key]
    operation.summary = "One entity of a set, by its key"
    operation.parameters = [
        Parameter(name="entity_set", param_in="path", required=True, schema=Schema(type=OpenAPIType.STRING)),
        Parameter(name="key", param_in="path", required=True, schema=Schema(type=OpenAPIType.STRING),
                  description="the key: a number, or text in single quotes"),
    ]
    openapi.paths[f"{ODATA_PREFIX}/{{entity_set}}({{key}})"] = PathItem(get=operation)


"""Examples: every JSON body, request and answer, carries one.

Written by hand where a made-up value would mislead (money, sign-in); elsewhere built from
the schema with values a reader recognises (a date-time, an e-mail, a week), so each example
is valid against its schema: the linter checks that (tests/integration/test_openapi_lint.py).
"""

from __future__ import annotations

import re
from typing import Any

from web.openapi.problem_answers import PROBLEM_DESCRIPTIONS, problem_example

__all__ = ["EXAMPLES", "add_examples", "example_of"]

#: "METHOD /path request" or "METHOD /path STATUS" → the example value.
EXAMPLES: dict[str, Any] = {
    "POST /api/v1/auth/token request": {
        "tenant": "acme", "email": "ana@example.com", "password": "correct horse battery",
    },
    "POST /api/v1/worklogs request": {
        "started_at": "2026-01-05T09:00:00Z", "length_s": 5400, "work_item": "1042",
        "comment": "Review of the invoice layout",
    },
    "POST /api/v1/subscription/quote request": {"seats": 12},
}

_WORDS = {
    "email": "ana@example.com", "name": "Ana Lima", "tenant": "acme", "slug": "acme",
    "password": "correct horse battery", "comment": "Review of the invoice layout", "title": "Invoice layout",
    "week": "2026-W02", "month": "2026-01", "currency": "EUR", "token": "stint_pat_0123456789abcdef",
    "next_cursor": None, "cursor": None, "code": "123456", "color": "#3366cc", "colour": "#3366cc",
    "path": "Stint\\Sprint 1", "url": "https://example.com/",
    "timezone": "Europe/Berlin", "time_zone": "Europe/Berlin", "role": "team", "state": "Active",
}

_FORMATS = {
    "date-time": "2026-01-05T09:00:00Z", "date": "2026-01-05", "time": "09:00:00",
    "email": "ana@example.com", "uuid": "3f1c2a9e-7b4d-4c1e-9a53-0c6f2d8b1e47", "uri": "https://example.com/",
    "duration": "P1D",
    "binary": "", "ipv4": "192.0.2.10", "ipv6": "2001:db8::10", "hostname": "stint.example.com",
}


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def example_of(schema: dict[str, Any], components: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A value valid against ``schema`` (the subset of JSON Schema Litestar writes)."""
    schema = _resolve(schema, components)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "examples" in schema and isinstance(schema["examples"], list) and schema["examples"]:
        return schema["examples"][0]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o, components).get("type") != "null"]
            options = options or schema[key]
            return example_of(options[0], components, name, depth)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_of(part, components, name, depth)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        if depth > 6:
            return {}
        props = schema.get("properties", {})
        return {k: example_of(v, components, k, depth + 1) for k, v in props.items()}
    if kind == "array":
        if depth > 6:
            return []
        item = example_of(schema.get("items", {}), components, name.rstrip("s"), depth + 1)
        return [item] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        low = schema.get("minimum", schema["exclusiveMinimum"] + 1 if "exclusiveMinimum" in schema else 1)
        high = schema.get("maximum")
        value = 3600 if name.endswith("_s") else 1200 if "amount" in name or "total" in name else 1
        value = max(value, int(low))
        return min(value, int(high)) if high is not None else value
    if kind == "number":
        low = schema.get("minimum", 0)
        return max(1.5, low)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    fmt = schema.get("format")
    if fmt in _FORMATS:
        return _FORMATS[fmt]
    pattern = schema.get("pattern")
    candidates = [_WORDS.get(name)]
    if name == "id" or name.endswith("_id"):
        candidates.append("3f1c2a9e-7b4d-4c1e-9a53-0c6f2d8b1e47")
    if pattern:
        # An alternation of words (a role, a state): its first word.
        choice = re.fullmatch(r"\^\(([\w|-]+)\)\$", pattern)
        if choice:
            candidates.insert(0, choice.group(1).split("|")[0])
    candidates.append(name.replace("_", " ") or "text")
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    for text in candidates:
        if not isinstance(text, str):
            continue
        text = text.ljust(low, "x")
        text = text[:high] if high is not None else text
        if not pattern or re.search(pattern, text):
            return text
    raise ValueError(f"OpenAPI example: no value for {name!r} matching {pattern!r}; add one to EXAMPLES")



def add_examples(openapi: Any) -> None:
    """An example on every JSON body: hand-written from ``EXAMPLES`` or built from its schema."""
    from litestar.openapi.spec import Example

    document = openapi.to_schema()
    components = document.get("components", {}).get("schemas", {})

    def fill(content: dict[str, Any], raw: dict[str, Any], key: str, summary: str | None) -> None:
        for media, media_type in content.items():
            schema = raw[media].get("schema")
            if schema is None or "json" not in media:
                continue  # CSV, PDF, event streams: their schema says enough
            if media.startswith("application/problem"):
                status = key.rsplit(" ", 1)[1]
                value, summary = problem_example(status), PROBLEM_DESCRIPTIONS.get(status)
            else:
                value = EXAMPLES[key] if key in EXAMPLES else example_of(schema, components)
            media_type.examples = {"example": Example(summary=summary, value=value)}

    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            raw = document["paths"][path][method]
            key = f"{method.upper()} {path}"
            if operation.request_body is not None and raw.get("requestBody", {}).get("content"):
                fill(operation.request_body.content, raw["requestBody"]["content"], f"{key} request",
                     operation.summary)
            for status, response in (operation.responses or {}).items():
                if getattr(response, "content", None):
                    fill(response.content, raw["responses"][status]["content"], f"{key} {status}",
                         operation.summary)

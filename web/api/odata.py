"""The Reporting API: OData v4 under ``/api/odata/v1`` (issue #18; ``docs/reporting.md``).

Its own router (``server/app.py``): OData clients expect OData's answers, so errors here are
OData JSON errors (``{"error": {"code", "message"}}``), never problem+json, and every answer
carries ``OData-Version: 4.0``. Parsing is ``plugins.reporting.parsing`` (through the
composition root), the query model and its rules are ``core.reporting``, the use case
``core.services.reporting``.

Credentials: the API's bearer tokens and personal access tokens, and — on these routes
only — HTTP Basic with a personal access token as the password (any user name), which is
what Excel's and Power BI's OData feed dialogs offer. Only here, because browsers remember
Basic credentials and send them on their own: on routes that change state that would let
another site act for the user (CSRF); every route here only reads.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.middleware import DefineMiddleware
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.params import FromPath

from core.errors import AccessDenied, StintError
from core.licensing.access import Action
from core.reporting import MODEL, NAMESPACE, Edm, EntitySet, Query, QueryRefused, validate
from core.reporting.query import Compare, Path, Value
from core.services.reporting import PageAsk, read_page, reporting_viewer
from core.services.tokens import PAT_PREFIX
from plugins.bootstrap import Stint

from ..access import InsufficientScope, requires
from ..auth import TenantPrincipal, authenticate_tenant_token, bearer_token
from ..deps import StintDep, provide_stint
from ..problems import exception_handlers, status_of

__all__ = ["ODATA_PREFIX", "odata_aware", "reporting_router"]

log = logging.getLogger("stint.reporting")

ODATA_PREFIX = "/api/odata/v1"
_VERSION = {"OData-Version": "4.0"}
_JSON = "application/json;odata.metadata=minimal;odata.streaming=true"
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Stint reporting", Bearer realm="stint"'}
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_SEGMENT = re.compile(r"([A-Za-z]+)(?:\((.{1,200})\))?")
#: Longest ``$query`` body (the options of a POST, as a query string).
MAX_QUERY_BODY = 64 * 1024

TenantRequest = Request[TenantPrincipal, Any, State]


# --- credentials ---------------------------------------------------------------------------


class ReportingUnauthorized(NotAuthorizedException):
    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, headers=_CHALLENGE)


def _basic_password(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ReportingUnauthorized("the Basic credentials cannot be read") from None
    _, sep, password = decoded.partition(":")
    if not sep or not password.startswith(PAT_PREFIX):
        raise ReportingUnauthorized("send a personal access token as the Basic password")
    return password


class ReportingAuth(AbstractAuthenticationMiddleware):
    """Bearer (access token or PAT), or Basic with a PAT as the password."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = bearer_token(connection) or _basic_password(connection)
        if token is None:
            raise ReportingUnauthorized("send a personal access token (Basic password) or a bearer token")
        stint = provide_stint(connection.app.state)
        try:
            principal = await authenticate_tenant_token(stint, token, count=True)
        except NotAuthorizedException as exc:
            raise ReportingUnauthorized(str(exc.detail)) from None
        return AuthenticationResult(user=principal, auth=principal.claims)


# --- answers -------------------------------------------------------------------------------


def _answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        _ENCODER.encode(body), status_code=status, media_type=_JSON, headers={**_VERSION, **(headers or {})}
    )


def odata_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return _answer({"error": {"code": code, "message": message}}, status, headers)


def _on_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if isinstance(exc, QueryRefused):
        return odata_error(exc.status, exc.code_, exc.detail)
    if isinstance(exc, InsufficientScope):
        # The token lacks reporting:read: OData's shape, with RFC 6750's challenge kept.
        return odata_error(403, "insufficient_scope", str(exc.detail), dict(exc.headers or {}))
    if isinstance(exc, AccessDenied):
        status = status_of(exc)
        if status == 404:
            return odata_error(404, "not_found", "Nothing is here.")
        return odata_error(status, str(exc.extra.get("reason") or exc.code), exc.detail)
    if isinstance(exc, StintError):
        return odata_error(status_of(exc), exc.code, exc.detail)
    if isinstance(exc, ValidationException):
        return odata_error(400, "bad_request", str(exc.detail))
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == 401:
            headers.update(_CHALLENGE)
        code = {
            401: "unauthorized",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            429: "too_many_requests",
        }.get(exc.status_code, "error")
        return odata_error(exc.status_code, code, str(exc.detail), headers)
    if isinstance(exc, RecursionError):
        return odata_error(400, "bad_request", "the query is nested too deeply")
    log.exception("reporting request failed", exc_info=exc)
    return odata_error(500, "internal_error", "Something went wrong on our side.")


def odata_aware(handlers: dict[Any, Any]) -> dict[Any, Any]:
    """The app's exception handlers, answering OData's way under the Reporting API's prefix:
    what fails before a route is found (404, 405) is handled at the app's level, not the
    router's."""

    def wrap(handler: Any) -> Any:
        def handle(request: Request[Any, Any, Any], exc: Exception) -> Any:
            if request.scope.get("path", "").startswith(ODATA_PREFIX):
                return _on_error(request, exc)
            return handler(request, exc)

        return handle

    return {cls: wrap(handler) for cls, handler in handlers.items()}


# --- $metadata -----------------------------------------------------------------------------

_EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
_EDM = "http://docs.oasis-open.org/odata/ns/edm"
_AGGREGATION = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Aggregation.V1.xml"


def metadata_xml() -> bytes:
    """The CSDL (OData 4.0) of every entity set, with the Aggregation vocabulary's
    ``ApplySupported`` on the container: which ``$apply`` transformations work."""
    ET.register_namespace("edmx", _EDMX)
    root = ET.Element(f"{{{_EDMX}}}Edmx", {"Version": "4.0"})
    ref = ET.SubElement(root, f"{{{_EDMX}}}Reference", {"Uri": _AGGREGATION})
    ET.SubElement(
        ref, f"{{{_EDMX}}}Include", {"Namespace": "Org.OData.Aggregation.V1", "Alias": "Aggregation"}
    )
    services = ET.SubElement(root, f"{{{_EDMX}}}DataServices")
    schema = ET.SubElement(services, "Schema", {"xmlns": _EDM, "Namespace": NAMESPACE})
    for entity_set in MODEL.values():
        entity = ET.SubElement(schema, "EntityType", {"Name": entity_set.type_name})
        key = ET.SubElement(entity, "Key")
        ET.SubElement(key, "PropertyRef", {"Name": entity_set.key})
        for prop in entity_set.properties:
            attrs = {"Name": prop.name, "Type": prop.edm.value}
            if not prop.nullable:
                attrs["Nullable"] = "false"
            if prop.edm is Edm.DECIMAL:
                attrs["Scale"] = "variable"
            ET.SubElement(entity, "Property", attrs)
        for nav in entity_set.navigations:
            target = MODEL[nav.target]
            ET.SubElement(
                entity,
                "NavigationProperty",
                {
                    "Name": nav.name,
                    "Type": f"{NAMESPACE}.{target.type_name}",
                    "Nullable": "true",
                },
            )
    container = ET.SubElement(schema, "EntityContainer", {"Name": "Reporting"})
    for entity_set in MODEL.values():
        element = ET.SubElement(
            container,
            "EntitySet",
            {
                "Name": entity_set.name,
                "EntityType": f"{NAMESPACE}.{entity_set.type_name}",
            },
        )
        for nav in entity_set.navigations:
            ET.SubElement(element, "NavigationPropertyBinding", {"Path": nav.name, "Target": nav.target})
    note = ET.SubElement(container, "Annotation", {"Term": "Aggregation.ApplySupported"})
    record = ET.SubElement(note, "Record")
    transformations = ET.SubElement(record, "PropertyValue", {"Property": "Transformations"})
    collection = ET.SubElement(transformations, "Collection")
    for name in ("aggregate", "groupby", "filter", "compute"):
        ET.SubElement(collection, "String").text = name
    ET.SubElement(
        record, "PropertyValue", {"Property": "Rollup", "EnumMember": "Aggregation.RollupType/None"}
    )
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


# --- queries -------------------------------------------------------------------------------


def _options(pairs: list[tuple[str, str]]) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, value in pairs:
        if not name.startswith("$"):
            raise QueryRefused(
                f"the query option '{name[:40]}' is not supported (system options start with $)"
            )
        if name in options:
            raise QueryRefused(f"{name[:40]} is given twice")
        options[name] = value
    return options


def _max_page(request: Request[Any, Any, Any]) -> int | None:
    for preference in request.headers.getall("prefer", []):
        for part in preference.split(","):
            name, _, value = part.strip().partition("=")
            if name.strip().lower() == "odata.maxpagesize" and value.strip().isdigit():
                return max(1, min(int(value.strip()), 1_000_000))
    return None


def _key_value(entity_set: EntitySet, text: str) -> Any:
    edm = entity_set.key_property.edm
    if edm is Edm.INT64:
        if not re.fullmatch(r"-?\d{1,18}", text):
            raise QueryRefused(f"the key of {entity_set.name} is a number")
        return int(text)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    raise QueryRefused(f"the key of {entity_set.name} is text: {entity_set.name}('…')")


def _owner(principal: TenantPrincipal, entity_set: str, options: dict[str, str]) -> str:
    """What a cursor is bound to: tenant, user, set and the query (options but the cursor)."""
    canonical = json.dumps(sorted((k, v) for k, v in options.items() if k != "$skiptoken"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"odata:{principal.tenant.id}:{principal.user.id}:{entity_set}:{digest}"


def _pack(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


def _unpack(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        return Decimal(value["n"])
    return value


def _cursor(stint: Stint, owner: str, sealed: str) -> tuple[tuple[Any, ...], int | None]:
    try:
        payload = json.loads(stint.report_cursors.open(owner, sealed))
        return tuple(_unpack(v) for v in payload["a"]), payload["r"]
    except (ValueError, KeyError, TypeError):
        raise QueryRefused(
            "$skiptoken is not valid for this query (it belongs to another query, "
            "user or tenant, or was changed)"
        ) from None


def _context_url(
    request: Request[Any, Any, Any], entity_set: EntitySet, query: Query, *, entity: bool = False
) -> str:
    base = f"{str(request.base_url).rstrip('/')}{ODATA_PREFIX}/$metadata#{entity_set.name}"
    if entity:
        return f"{base}/$entity"
    if query.select:
        return f"{base}({','.join(p.text for p in query.select)})"
    return base


async def _run(
    request: TenantRequest, stint: Stint, entity_set_name: str, options: dict[str, str]
) -> Response[bytes]:
    principal = request.user
    if entity_set_name not in MODEL:
        raise QueryRefused(f"'{entity_set_name[:60]}' is not an entity set", status=404, code="not_found")
    query = stint.report_parser.parse(entity_set_name, options)
    entity_set = validate(query)
    owner = _owner(principal, entity_set_name, options)
    after, remaining = None, query.top
    if "$skiptoken" in options:
        after, remaining = _cursor(stint, owner, options["$skiptoken"])
    max_page = _max_page(request)
    viewer = await reporting_viewer(
        stint.uow,
        stint.clock,
        tenant=principal.tenant,
        user=principal.user,
        grace_days=stint.settings.grace_days,
        clock_tolerance=stint.settings.clock_tolerance,
        cache=principal.cache or stint.access_cache,
    )
    page, left = await read_page(
        stint.reporting,
        tenant=principal.tenant,
        viewer=viewer,
        query=query,
        ask=PageAsk(after=after, remaining=remaining, max_page=max_page),
    )
    body: dict[str, Any] = {"@odata.context": _context_url(request, entity_set, query)}
    if page.count is not None:
        body["@odata.count"] = page.count
    body["value"] = page.rows
    if page.after is not None:
        sealed = stint.report_cursors.seal(
            owner, json.dumps({"a": [_pack(v) for v in page.after], "r": left})
        )
        link = {k: v for k, v in options.items() if k != "$skiptoken"} | {"$skiptoken": sealed}
        body["@odata.nextLink"] = (
            f"{str(request.base_url).rstrip('/')}{ODATA_PREFIX}/{entity_set_name}?{urlencode(link)}"
        )
    # What was applied: the set's largest page caps a larger preference.
    applied = None if max_page is None else entity_set.page_limit(max_page)
    headers = {"Preference-Applied": f"odata.maxpagesize={applied}"} if applied is not None else None
    return _answer(body, headers=headers)


async def _entity(
    request: TenantRequest, stint: Stint, entity_set: EntitySet, key: str, options: dict[str, str]
) -> Response[bytes]:
    for name in options:
        if name not in ("$select", "$expand", "$format"):
            raise QueryRefused(f"{name} does not apply to a single entity")
    query = stint.report_parser.parse(entity_set.name, options)
    condition = Compare("eq", Path((entity_set.key,)), Value(_key_value(entity_set, key)))
    query = Query(entity_set.name, condition, query.select, expand=query.expand)
    principal = request.user
    viewer = await reporting_viewer(
        stint.uow,
        stint.clock,
        tenant=principal.tenant,
        user=principal.user,
        grace_days=stint.settings.grace_days,
        clock_tolerance=stint.settings.clock_tolerance,
        cache=principal.cache or stint.access_cache,
    )
    page, _ = await read_page(
        stint.reporting, tenant=principal.tenant, viewer=viewer, query=query, ask=PageAsk(max_page=1)
    )
    if not page.rows:
        raise QueryRefused(f"{entity_set.name}({key[:60]}) does not exist", status=404, code="not_found")
    row = page.rows[0]
    fields = row if isinstance(row, dict) else msgspec.structs.asdict(row)
    return _answer({"@odata.context": _context_url(request, entity_set, query, entity=True), **fields})


def _query_pairs(text: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    try:
        return parse_qsl(
            text.strip(), keep_blank_values=True, strict_parsing=bool(text.strip()), max_num_fields=50
        )
    except ValueError as exc:
        raise QueryRefused(f"the $query body cannot be read as query options: {exc}") from None


class ODataController(Controller):
    path = "/"
    guards = [requires(Action.USE_REPORTING)]  # noqa: RUF012 - Litestar reads this class attribute
    include_in_schema = True
    tags = ("reporting",)

    @get("/", summary="The OData service document: the entity sets")
    async def service_document(self, request: TenantRequest) -> Response[bytes]:
        base = f"{str(request.base_url).rstrip('/')}{ODATA_PREFIX}"
        return _answer(
            {
                "@odata.context": f"{base}/$metadata",
                "value": [{"name": s.name, "kind": "EntitySet", "url": s.name} for s in MODEL.values()],
            }
        )

    @get("/$metadata", summary="The OData CSDL (XML, OData 4.0) of the entity sets")
    async def metadata(self) -> Response[bytes]:
        return Response(metadata_xml(), media_type="application/xml", headers=_VERSION)

    @get("/{entity_set:str}", summary="Rows of an entity set (or one entity: set(key)), by OData options")
    async def entity_set(
        self, request: TenantRequest, stint: StintDep, entity_set: FromPath[str]
    ) -> Response[bytes]:
        match = _SEGMENT.fullmatch(entity_set)
        if match is None or match.group(1) not in MODEL:
            raise QueryRefused(f"'{entity_set[:60]}' is not an entity set", status=404, code="not_found")
        options = _options(list(request.query_params.multi_items()))
        if match.group(2) is not None:
            return await _entity(request, stint, MODEL[match.group(1)], match.group(2), options)
        return await _run(request, stint, entity_set, options)

    @post(
        "/{entity_set:str}/$query",
        status_code=200,
        summary="Rows of an entity set, the options in the body (text/plain) for long queries",
    )
    async def query(
        self, request: TenantRequest, stint: StintDep, entity_set: FromPath[str]
    ) -> Response[bytes]:
        # The body is the query options as a query string (text/plain), read as bytes so a
        # long one is refused by size before it is decoded.
        raw = await request.body()
        if len(raw) > MAX_QUERY_BODY:
            raise QueryRefused(f"the $query body is longer than {MAX_QUERY_BODY} bytes")
        try:
            data = raw.decode()
        except UnicodeDecodeError:
            raise QueryRefused("the $query body is not UTF-8 text") from None
        pairs = _query_pairs(data) + list(request.query_params.multi_items())
        return await _run(request, stint, entity_set, _options(pairs))


def reporting_router() -> Router:
    return Router(
        path=ODATA_PREFIX,
        route_handlers=[ODataController],
        middleware=[DefineMiddleware(ReportingAuth, exclude_from_auth_key="exclude_from_auth")],
        # Every class the app handles as problem+json, and any other, answered OData's way
        # here (Litestar picks the most specific class across the layers).
        exception_handlers={**{cls: _on_error for cls in exception_handlers}, QueryRefused: _on_error},
    )

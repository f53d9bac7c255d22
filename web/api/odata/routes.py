"""The Reporting API's routes: the service document, ``$metadata``, an entity set's rows (or
one entity) by GET or by ``POST …/$query``, and the router that gives them OData's
credentials and errors."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Response, Router, get, post
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath

from core.licensing.access import Action
from core.reporting import MODEL, EntitySet, Query, QueryRefused, Viewer, validate
from core.reporting.query import Compare, Path, Value
from core.services.reporting import PageAsk, read_page, reporting_viewer
from plugins.bootstrap import Stint

from ...access import requires
from ...auth import TenantPrincipal, TenantRequest
from ...deps import StintDep
from ...problems import exception_handlers
from .answers import ODATA_PREFIX, VERSION_HEADER, answer, context_url, on_error
from .auth import ReportingAuth
from .metadata import metadata_xml
from .options import MAX_QUERY_BODY, SEGMENT, key_value, options_of, preferred_max_page, query_pairs
from .skiptoken import cursor_owner, opened_cursor, pack

__all__ = ["reporting_router"]



async def _run(
    request: TenantRequest, stint: Stint, entity_set_name: str, options: dict[str, str]
) -> Response[bytes]:
    principal = request.user
    if entity_set_name not in MODEL:
        raise QueryRefused(f"'{entity_set_name[:60]}' is not an entity set", status=404, code="not_found")
    query = stint.report_parser.parse(entity_set_name, options)
    entity_set = validate(query)
    owner = cursor_owner(principal, entity_set_name, options)
    after, remaining = None, query.top
    if "$skiptoken" in options:
        after, remaining = opened_cursor(stint, owner, options["$skiptoken"])
    max_page = preferred_max_page(request)
    viewer = await _viewer(stint, principal)
    page, left = await read_page(
        stint.reporting,
        tenant=principal.tenant,
        viewer=viewer,
        query=query,
        ask=PageAsk(after=after, remaining=remaining, max_page=max_page),
    )
    body: dict[str, Any] = {"@odata.context": context_url(request, entity_set, query)}
    if page.count is not None:
        body["@odata.count"] = page.count
    body["value"] = page.rows
    if page.after is not None:
        sealed = stint.report_cursors.seal(
            owner, json.dumps({"a": [pack(v) for v in page.after], "r": left})
        )
        link = {k: v for k, v in options.items() if k != "$skiptoken"} | {"$skiptoken": sealed}
        body["@odata.nextLink"] = (
            f"{str(request.base_url).rstrip('/')}{ODATA_PREFIX}/{entity_set_name}?{urlencode(link)}"
        )
    # What was applied: the set's largest page caps a larger preference.
    applied = None if max_page is None else entity_set.page_limit(max_page)
    headers = {"Preference-Applied": f"odata.maxpagesize={applied}"} if applied is not None else None
    return answer(body, headers=headers)


async def _viewer(stint: Stint, principal: TenantPrincipal) -> Viewer:
    """Who reads, and what they may see: the access decision reporting is part of."""
    return await reporting_viewer(
        stint.uow,
        stint.clock,
        tenant=principal.tenant,
        user=principal.user,
        grace_days=stint.settings.grace_days,
        clock_tolerance=stint.settings.clock_tolerance,
        cache=principal.cache or stint.access_cache,
    )


async def _entity(
    request: TenantRequest, stint: Stint, entity_set: EntitySet, key: str, options: dict[str, str]
) -> Response[bytes]:
    for name in options:
        if name not in ("$select", "$expand", "$format"):
            raise QueryRefused(f"{name} does not apply to a single entity")
    query = stint.report_parser.parse(entity_set.name, options)
    condition = Compare("eq", Path((entity_set.key,)), Value(key_value(entity_set, key)))
    query = Query(entity_set.name, condition, query.select, expand=query.expand)
    principal = request.user
    viewer = await _viewer(stint, principal)
    page, _ = await read_page(
        stint.reporting, tenant=principal.tenant, viewer=viewer, query=query, ask=PageAsk(max_page=1)
    )
    if not page.rows:
        raise QueryRefused(f"{entity_set.name}({key[:60]}) does not exist", status=404, code="not_found")
    row = page.rows[0]
    fields = row if isinstance(row, dict) else msgspec.structs.asdict(row)
    return answer({"@odata.context": context_url(request, entity_set, query, entity=True), **fields})


class ODataController(Controller):
    path = "/"
    guards = [requires(Action.USE_REPORTING)]  # noqa: RUF012 - Litestar reads this class attribute
    include_in_schema = True
    tags = ("reporting",)

    @get("/", summary="The OData service document: the entity sets")
    async def service_document(self, request: TenantRequest) -> Response[bytes]:
        base = f"{str(request.base_url).rstrip('/')}{ODATA_PREFIX}"
        return answer(
            {
                "@odata.context": f"{base}/$metadata",
                "value": [{"name": s.name, "kind": "EntitySet", "url": s.name} for s in MODEL.values()],
            }
        )

    @get("/$metadata", summary="The OData CSDL (XML, OData 4.0) of the entity sets")
    async def metadata(self) -> Response[bytes]:
        return Response(metadata_xml(), media_type="application/xml", headers=VERSION_HEADER)

    @get("/{entity_set:str}", summary="Rows of an entity set (or one entity: set(key)), by OData options")
    async def entity_set(
        self, request: TenantRequest, stint: StintDep, entity_set: FromPath[str]
    ) -> Response[bytes]:
        match = SEGMENT.fullmatch(entity_set)
        if match is None or match.group(1) not in MODEL:
            raise QueryRefused(f"'{entity_set[:60]}' is not an entity set", status=404, code="not_found")
        options = options_of(list(request.query_params.multi_items()))
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
        pairs = query_pairs(data) + list(request.query_params.multi_items())
        return await _run(request, stint, entity_set, options_of(pairs))


def reporting_router() -> Router:
    return Router(
        path=ODATA_PREFIX,
        route_handlers=[ODataController],
        middleware=[DefineMiddleware(ReportingAuth, exclude_from_auth_key="exclude_from_auth")],
        # Every class the app handles as problem+json, and any other, answered OData's way
        # here (Litestar picks the most specific class across the layers).
        exception_handlers={**{cls: on_error for cls in exception_handlers}, QueryRefused: on_error},
    )

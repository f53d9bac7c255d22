"""Links: which answer feeds which next call (OAS 3.1 "Link Object").

A client reading the schema learns that the ``id`` a ``POST /api/v1/worklogs`` answers is
what ``PATCH``/``DELETE /api/v1/worklogs/{worklog_id}`` take, that a started timer is
stopped by ``POST /api/v1/tracking/stop``, and so on; Schemathesis' stateful phase follows
the same links to chain real calls (tests/integration/test_fuzz.py). Litestar has no
per-handler way to declare links, so they live in the one table below and
``document_links`` writes them into the schema after the routes are built. A link whose
operation or status is missing from the schema fails app start: a renamed route cannot
leave a link silently pointing nowhere.

This module owns the ``Link`` row, the helpers that build families of rows, the ``LINKS``
table and ``document_links``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["LINKS", "Link", "document_links"]


@dataclass(frozen=True, slots=True)
class Link:
    """From an answer of ``source`` (``"METHOD /path"``) with ``status`` to a call of ``target``."""

    name: str
    source: str
    status: str
    target: str
    #: Target parameter name (``[in.]name`` when ambiguous) → runtime expression.
    parameters: dict[str, str] = field(default_factory=dict)
    #: A literal or an object of runtime expressions for the target's JSON body.
    request_body: Any = None
    description: str | None = None


def _same_resource(source: str, status: str, item: str, *, change: bool = True) -> list[Link]:
    """A worklog's ``id`` (at ``item``) leads to changing and deleting that worklog."""
    param = {"worklog_id": f"$response.body#{item}"}
    links = [Link("DeleteWorklog", source, status, "DELETE /api/v1/worklogs/{worklog_id}", param)]
    if change:
        links.append(Link("ChangeWorklog", source, status, "PATCH /api/v1/worklogs/{worklog_id}", param))
    return links


def _work_item(source: str, status: str, item: str) -> list[Link]:
    """A work item's ``id`` leads to reading and changing it, its children, and a worklog on it."""
    value = f"$response.body#{item}"
    return [
        Link("GetWorkItem", source, status, "GET /api/v1/work-items/{item_id}", {"item_id": value}),
        Link("ChangeWorkItem", source, status, "PATCH /api/v1/work-items/{item_id}", {"item_id": value}),
        Link("Children", source, status, "GET /api/v1/work-items", {"parent": value}),
        Link("LogTime", source, status, "POST /api/v1/worklogs", request_body={
            "started_at": "2026-01-05T09:00:00Z", "length_s": 600, "work_item": value,
        }),
    ]


def _next_page(path: str) -> Link:
    return Link(
        "NextPage", f"GET {path}", "200", f"GET {path}", {"cursor": "$response.body#/next_cursor"},
        description="The next page; the last page's `next_cursor` is null.",
    )


def _owner_views(source: str, status: str, user: str) -> list[Link]:
    """A user's id leads to their worklogs, their week and (for administrators) their audit trail."""
    param = {"user": f"$response.body#{user}"}
    return [
        Link("TheirWorklogs", source, status, "GET /api/v1/worklogs", param),
        Link("TheirTimesheet", source, status, "GET /api/v1/timesheet", param),
    ]


def _week_actions(source: str, status: str, actions: tuple[str, ...]) -> list[Link]:
    return [
        Link(
            f"{action.title()}Week", source, status, f"POST /api/v1/weeks/{{week}}/{action}",
            {"week": "$response.body#/week"}, request_body={"user_id": "$response.body#/user_id"},
        )
        for action in actions
    ]


def _operator_tenant_actions(source: str, status: str, slug: str) -> list[Link]:
    param = {"slug": f"$response.body#{slug}"}
    return [
        Link(f"{name}Tenant", source, status, f"POST /api/v1/operator/tenants/{{slug}}/{action}", param)
        for name, action in (("Trial", "trial"), ("Uninstall", "uninstall"), ("Reinstall", "reinstall"))
    ]


def _second_factor_reset(source: str, status: str, user: str) -> list[Link]:
    """An Administrator removes a user's lost second factor."""
    return [Link("ResetSecondFactor", source, status, "DELETE /api/v1/users/{user_id}/second-factor",
                 {"user_id": f"$response.body#{user}"})]


def _budget_actions(source: str, status: str, item: str) -> list[Link]:
    """A budget's ``id`` (at ``item``) leads to reading, changing, assigning and its reports."""
    param = {"budget_id": f"$response.body#{item}"}
    return [
        Link("GetBudget", source, status, "GET /api/v1/budgets/{budget_id}", param),
        Link("ChangeBudget", source, status, "PATCH /api/v1/budgets/{budget_id}", param),
        Link("AssignBudget", source, status, "POST /api/v1/budgets/{budget_id}/assign", param),
        Link("UnassignBudget", source, status, "POST /api/v1/budgets/{budget_id}/unassign", param),
        Link("BudgetUsage", source, status, "GET /api/v1/budgets/{budget_id}/usage", param),
        Link("BudgetStatement", source, status, "GET /api/v1/budgets/{budget_id}/statement", param),
    ]


def _replay(path: str, status: str) -> Link:
    return Link(
        "Retry", f"POST {path}", status, f"POST {path}",
        {"header.Idempotency-Key": "$request.header.Idempotency-Key"}, request_body="$request.body",
        description="The same request with the same Idempotency-Key: the kept answer, no second effect.",
    )


_REFRESH = {"refresh_token": "$response.body#/refresh_token"}

LINKS: tuple[Link, ...] = (
    # Worklogs: made by hand, by the timer, or listed; then changed and deleted.
    *_same_resource("POST /api/v1/worklogs", "201", "/id"),
    *_owner_views("POST /api/v1/worklogs", "201", "/user_id"),
    _replay("/api/v1/worklogs", "201"),
    *_same_resource("PATCH /api/v1/worklogs/{worklog_id}", "200", "/id"),
    *_same_resource("GET /api/v1/worklogs", "200", "/items/0/id"),
    _next_page("/api/v1/worklogs"),
    Link("Export", "POST /api/v1/worklogs/import", "201", "GET /api/v1/worklogs/export"),
    # The timer.
    Link("Stop", "POST /api/v1/tracking/start", "201", "POST /api/v1/tracking/stop"),
    Link("ActivityCheck", "POST /api/v1/tracking/start", "201", "POST /api/v1/tracking/activity-check"),
    Link("Current", "POST /api/v1/tracking/start", "201", "GET /api/v1/tracking/current"),
    *_same_resource("POST /api/v1/tracking/stop", "200", "/id"),
    # Weeks: the grid names its week and owner; a submitted week is approved, rejected, closed.
    *_week_actions("GET /api/v1/timesheet", "200", ("submit", "approve", "reject", "close")),
    *_week_actions("POST /api/v1/weeks/{week}/submit", "200", ("approve", "reject", "close")),
    *_week_actions("POST /api/v1/weeks/{week}/approve", "200", ("reject",)),
    *_week_actions("POST /api/v1/weeks/{week}/reject", "200", ("submit",)),
    # Users: added, listed, or yourself; then changed (your own role too: last_administrator).
    Link("ChangeUser", "POST /api/v1/users", "201", "PATCH /api/v1/users/{user_id}",
         {"user_id": "$response.body#/id"}),
    *_owner_views("POST /api/v1/users", "201", "/id"),
    Link("TheirAudit", "POST /api/v1/users", "201", "GET /api/v1/audit", {"user": "$response.body#/id"}),
    _replay("/api/v1/users", "201"),
    Link("ChangeUser", "GET /api/v1/users", "200", "PATCH /api/v1/users/{user_id}",
         {"user_id": "$response.body#/items/0/id"}),
    *_second_factor_reset("POST /api/v1/users", "201", "/id"),
    *_second_factor_reset("GET /api/v1/users", "200", "/items/0/id"),
    *_second_factor_reset("GET /api/v1/me", "200", "/id"),
    _next_page("/api/v1/users"),
    Link("ChangeMe", "GET /api/v1/me", "200", "PATCH /api/v1/users/{user_id}",
         {"user_id": "$response.body#/id"}),
    *_owner_views("GET /api/v1/me", "200", "/id"),
    _next_page("/api/v1/audit"),
    # Your own second factor: enrolment started, then confirmed (the code is the client's).
    Link("Status", "POST /api/v1/me/second-factor", "201", "GET /api/v1/me/second-factor"),
    Link("Confirm", "POST /api/v1/me/second-factor", "201", "POST /api/v1/me/second-factor/confirm"),
    Link("Remove", "POST /api/v1/me/second-factor/confirm", "200", "DELETE /api/v1/me/second-factor"),
    # Personal access tokens.
    Link("Revoke", "POST /api/v1/me/tokens", "201", "DELETE /api/v1/me/tokens/{token_id}",
         {"token_id": "$response.body#/id"}),
    Link("Revoke", "GET /api/v1/me/tokens", "200", "DELETE /api/v1/me/tokens/{token_id}",
         {"token_id": "$response.body#/items/0/id"}),
    _next_page("/api/v1/me/tokens"),
    # Sign-up, sign-in, refresh, logout.
    Link("SignIn", "POST /api/v1/signup", "201", "POST /api/v1/auth/token", request_body={
        "tenant": "$request.body#/tenant", "email": "$request.body#/admin/email",
        "password": "$request.body#/admin/password",
    }),
    Link("Refresh", "POST /api/v1/auth/token", "200", "POST /api/v1/auth/refresh", request_body=_REFRESH),
    Link("Logout", "POST /api/v1/auth/token", "200", "POST /api/v1/auth/logout", request_body=_REFRESH),
    Link("Refresh", "POST /api/v1/auth/refresh", "200", "POST /api/v1/auth/refresh", request_body=_REFRESH),
    Link("Logout", "POST /api/v1/auth/refresh", "200", "POST /api/v1/auth/logout", request_body=_REFRESH),
    # Subscription and invoices.
    _next_page("/api/v1/invoices"),
    # An invoice just issued, or the newest listed, as its PDF.
    Link("InvoicePdf", "POST /api/v1/subscription/purchase", "200", "GET /api/v1/invoices/{invoice_id}/pdf",
         {"invoice_id": "$response.body#/invoice/id"}),
    Link("InvoicePdf", "GET /api/v1/invoices", "200", "GET /api/v1/invoices/{invoice_id}/pdf",
         {"invoice_id": "$response.body#/items/0/id"}),
    Link("IssueFile", "GET /api/v1/subscription/server-id", "200", "POST /api/v1/operator/activation-files",
         request_body={"server_id": "$response.body#/server_id"},
         description="An operator issues an offline activation file for this server."),
    # Activity types: added or listed, then changed; user rates: listed or a new user, then set.
    Link("ChangeActivityType", "POST /api/v1/activity-types", "201",
         "PATCH /api/v1/activity-types/{activity_type_id}", {"activity_type_id": "$response.body#/id"}),
    Link("ChangeActivityType", "GET /api/v1/activity-types", "200",
         "PATCH /api/v1/activity-types/{activity_type_id}",
         {"activity_type_id": "$response.body#/items/0/id"}),
    _next_page("/api/v1/activity-types"),
    Link("SetRate", "GET /api/v1/user-rates", "200", "PUT /api/v1/user-rates/{user_id}",
         {"user_id": "$response.body#/items/0/user_id"}),
    Link("SetRate", "POST /api/v1/users", "201", "PUT /api/v1/user-rates/{user_id}",
         {"user_id": "$response.body#/id"}),
    _next_page("/api/v1/user-rates"),
    # The operator's view of a tenant.
    *_operator_tenant_actions("POST /api/v1/signup", "201", "/tenant/slug"),
    *_operator_tenant_actions("GET /api/v1/me", "200", "/tenant/slug"),
    *_operator_tenant_actions("GET /api/v1/operator/tenants", "200", "/items/0/slug"),
    Link("Reinstall", "POST /api/v1/operator/tenants/{slug}/uninstall", "200",
         "POST /api/v1/operator/tenants/{slug}/reinstall", {"slug": "$response.body#/tenant"}),
    _next_page("/api/v1/operator/tenants"),
    # Budgets: added or listed; then read, changed (closed), assigned and reported on.
    *_budget_actions("POST /api/v1/budgets", "201", "/id"),
    *_budget_actions("GET /api/v1/budgets", "200", "/items/0/id"),
    *_budget_actions("PATCH /api/v1/budgets/{budget_id}", "200", "/id"),
    _next_page("/api/v1/budgets"),
    # Work items (standalone): made or listed, then read, changed and tracked against.
    *_work_item("POST /api/v1/work-items", "201", "/id"),
    *_work_item("PATCH /api/v1/work-items/{item_id}", "200", "/id"),
    *_work_item("GET /api/v1/work-items", "200", "/items/0/id"),
    _next_page("/api/v1/work-items"),
    Link("ItsItems", "POST /api/v1/iterations", "201", "GET /api/v1/work-items",
         {"iteration": "$response.body#/id"}),
    Link("NewItemInIt", "POST /api/v1/iterations", "201", "POST /api/v1/work-items",
         request_body={"title": "Planned", "type": "Task", "iteration_id": "$response.body#/id"}),
    _next_page("/api/v1/iterations"),
)


def _operation(paths: dict[str, Any], key: str) -> Any:
    method, path = key.split(" ", 1)
    item = paths.get(path)
    operation = getattr(item, method.lower(), None) if item is not None else None
    if operation is None:
        raise LookupError(f"OpenAPI link to or from {key!r}: no such operation")
    return operation


def document_links(app: Any, links: tuple[Link, ...] = LINKS) -> None:
    """Write ``links`` into the app's OpenAPI schema (run after the other ``document_*``)."""
    from litestar._openapi.plugin import OpenAPIPlugin
    from litestar.openapi.spec import Link as OpenAPILink

    paths = app.plugins.get(OpenAPIPlugin).provide_openapi().paths or {}
    for link in links:
        source = _operation(paths, link.source)
        target = _operation(paths, link.target)
        response = (source.responses or {}).get(link.status)
        if response is None or not target.operation_id:
            raise LookupError(f"OpenAPI link {link.name!r}: {link.source} answers no {link.status}")
        response.links = response.links or {}
        if link.name in response.links:
            raise LookupError(f"OpenAPI link {link.name!r} twice on {link.source} {link.status}")
        response.links[link.name] = OpenAPILink(
            operation_id=target.operation_id, parameters=dict(link.parameters) or None,
            request_body=link.request_body, description=link.description,
        )

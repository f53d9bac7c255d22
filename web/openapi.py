"""What the OpenAPI schema says beyond what Litestar derives: operations (ids, descriptions,
security, problem answers, examples; below the links), links, and strict bodies.

Links: which answer feeds which next call (OAS 3.1 "Link Object").

A client reading the schema learns that the ``id`` a ``POST /api/v1/worklogs`` answers is
what ``PATCH``/``DELETE /api/v1/worklogs/{worklog_id}`` take, that a started timer is
stopped by ``POST /api/v1/tracking/stop``, and so on; Schemathesis' stateful phase follows
the same links to chain real calls (tests/integration/test_fuzz.py). Litestar has no
per-handler way to declare links, so they live in the one table below and
``document_links`` writes them into the schema after the routes are built. A link whose
operation or status is missing from the schema fails app start: a renamed route cannot
leave a link silently pointing nowhere.

Strict bodies: request bodies refuse unknown fields (``web.schemas.Strict``), and Litestar's
schema for a msgspec Struct does not say so; ``StrictBodies`` adds
``additionalProperties: false`` so a client built from the schema does not send what the
server then refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition

__all__ = [
    "EXAMPLES", "EXTRA_STATUSES", "LINKS", "OPERATIONS", "SECURITY_SCHEMES", "Link", "StrictBodies",
    "add_examples", "document_links", "document_operations", "example_of", "undocumented",
]


class StrictBodies(StructSchemaPlugin):
    """Structs that forbid unknown fields get ``additionalProperties: false`` in the schema."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        if not super().is_plugin_supported_field(field_definition):
            return False
        info = msgspec.inspect.type_info(field_definition.type_)
        return isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema

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


# Operations: stable ids, descriptions, security, every problem they can answer, examples ------
#
# Litestar derives ids from the path (``ApiV1WorklogsCreate``) and handler names repeat
# (``create``, ``list``), so each operation's id and description live in the one table below,
# keyed like the links above. ``document_operations`` writes them in; a route missing from
# the table gets a derived id meanwhile, and ``undocumented`` names it (and any entry naming
# no route) for tests/integration/test_openapi.py, which fails until the table follows. Not a
# failed app start: a branch adding routes must not break every test when it is merged.

#: "METHOD /path" → (operationId, description). The summary stays on the decorator.
OPERATIONS: dict[str, tuple[str, str]] = {
    "GET /health": ("getHealth", "Whether this Stint answers, with its version. Public."),
    "GET /health/live": (
        "getLiveness", "The process is up (no I/O): for a container's liveness probe. Public."),
    "GET /health/ready": (
        "getReadiness", "Whether this process should get traffic: the database answers, its "
        "schema is current and Redis answers when configured; 503 (a problem) otherwise and "
        "while the process drains on shutdown. Public."),
    "GET /api/v1/operator/jobs": (
        "listJobs", "Each background job's last run, its worker, lag and backlog (operators; "
        "what the public /health no longer shows)."),
    "POST /api/v1/signup": (
        "signUp", "Creates a tenant on a trial with its first Administrator (a collection admin). "
        "Sign in afterwards with `signIn`."),
    "POST /api/v1/auth/token": (
        "signIn", "Trades a tenant user's e-mail and password for a short-lived access token (JWT) "
        "and a refresh token. Failed sign-ins are limited per address and per account (429)."),
    "POST /api/v1/auth/refresh": (
        "refreshToken", "Trades a refresh token for a new pair. A refresh token used twice "
        "revokes its whole family (401)."),
    "POST /api/v1/auth/logout": (
        "signOut", "Revokes the refresh token, every token rotated from it and their access tokens."),
    "GET /api/v1/me": ("getMe", "The calling user: e-mail, name, role, licence and tenant."),
    "GET /api/v1/me/access": (
        "getMyAccess", "The access decision for the Time tab (allowed, the reason when not) and the "
        "trial banner."),
    "GET /api/v1/me/second-factor": (
        "getMySecondFactor", "Whether the caller has a second factor and whether the tenant requires one."),
    "POST /api/v1/me/second-factor": (
        "startMySecondFactor", "Starts enrolling a TOTP second factor: answers the secret and its "
        "`otpauth://` URI. It takes effect once confirmed."),
    "POST /api/v1/me/second-factor/confirm": (
        "confirmMySecondFactor", "Confirms enrolment with a current code; answers the one-time "
        "recovery codes (shown once). Wrong codes are limited (429)."),
    "DELETE /api/v1/me/second-factor": (
        "removeMySecondFactor", "Switches the caller's second factor off, proven by a current code "
        "or the password. Refused while the tenant requires one."),
    "DELETE /api/v1/users/{user_id}/second-factor": (
        "resetUserSecondFactor", "Removes a user's second factor (a lost device). Administrators only."),
    "GET /api/v1/settings/security": ("getSecuritySettings", "Whether the tenant requires a second factor."),
    "PUT /api/v1/settings/security": (
        "setSecuritySettings", "Requires a second factor of every user, or stops requiring it. "
        "Administrators only."),
    "GET /api/v1/me/notifications": (
        "getMyNotifications", "Which notification mails the caller gets, per kind (their own choice, "
        "else the tenant's default, else on)."),
    "PUT /api/v1/me/notifications": (
        "setMyNotifications", "Turns notification kinds on or off for the caller; kinds left out keep "
        "their setting."),
    "GET /api/v1/settings/notifications": (
        "getNotificationSettings", "The tenant's default per notification kind, for users who have not "
        "chosen."),
    "PUT /api/v1/settings/notifications": (
        "setNotificationSettings", "Sets the tenant's default per notification kind; a user's own choice "
        "still wins. Administrators only."),
    "GET /api/v1/me/profile": (
        "getMyProfile", "The caller's name, language (en, de), time zone (null: the tenant's), time "
        "format (hm: 1:30, decimal: 1.50) and first day of the week."),
    "PUT /api/v1/me/profile": (
        "setMyProfile", "Changes the fields it names; an unknown locale or time zone is a 422 and "
        "nothing is stored."),
    "GET /api/v1/me/working-hours": (
        "getMyWorkingHours", "The caller's expected hours per weekday and days off (unset: 8 h Monday to "
        "Friday)."),
    "PUT /api/v1/me/working-hours": (
        "setMyWorkingHours", "Replaces the caller's expected hours per weekday and days off."),
    "GET /api/v1/users/{user_id}/working-hours": (
        "getUserWorkingHours", "A user's expected hours per weekday and days off. Administrators only."),
    "PUT /api/v1/users/{user_id}/working-hours": (
        "setUserWorkingHours", "Replaces a user's expected hours per weekday and days off; audited. "
        "Administrators only."),
    "GET /api/v1/me/tokens": (
        "listAccessTokens", "The caller's personal access tokens with their scopes (never the secrets)."),
    "POST /api/v1/me/tokens": (
        "createAccessToken", "Creates a personal access token for scripts (at most 365 days). The "
        "token is answered once; send it as `Authorization: Bearer <token>`. `scopes` limits what it "
        "may be used for (`tracking`, `worklogs:read`, `worklogs:write`, `reporting:read`, "
        "`users:read`, `admin`); without it the token may do all its user's role allows. A personal "
        "access token cannot create another."),
    "DELETE /api/v1/me/tokens/{token_id}": (
        "revokeAccessToken", "Revokes one of the caller's personal access tokens at once."),
    "GET /api/v1/users": ("listUsers", "The tenant's users with their roles and licences, a page at a time."),
    "POST /api/v1/users": (
        "createUser", "Adds a user to the tenant. A licence beyond the subscription's seats is "
        "refused (409 `seat_limit`)."),
    "PATCH /api/v1/users/{user_id}": (
        "changeUser", "Changes a user's role, licence or flags. The last Administrator cannot be "
        "demoted (409)."),
    "PUT /api/v1/settings/default-role": ("setDefaultRole", "The role new users get."),
    "GET /api/v1/audit": (
        "listAuditEvents", "The tenant's security history (sign-ins, role changes, tokens), newest "
        "first, a page at a time. Administrators only."),
    "GET /api/v1/export": (
        "exportTenantData", "Every record of the tenant as one ZIP archive: JSON lines per table, the "
        "worklogs as CSV, and a manifest with each member's SHA-256, signed by this installation "
        "(`stint tenant import` checks it). Administrators; collection admins also after the "
        "subscription has expired. Audited."),
    "GET /api/v1/operator/tenants/{slug}/export": (
        "exportTenantAsOperator", "A tenant's archive, as `GET /api/v1/export` answers it to its "
        "Administrators; audited in the tenant's trail as the operator's."),
    "POST /api/v1/operator/tenants/{slug}/purge": (
        "purgeTenant", "Deletes an expired cloud tenant's data now, as the retention job would: only "
        "once its retention period is over and its collection admins have had the last warning "
        "(409 with `reason` otherwise). `confirm` must repeat the slug. Invoices and the audit "
        "trail are kept."),
    "GET /api/v1/subscription": (
        "getSubscription", "Plan, interval, seats, status, period, trial end, licensed users and credit."),
    "POST /api/v1/subscription/purchase": (
        "purchaseSubscription", "Buy Now: starts a paid subscription and answers it with its first invoice."),
    "POST /api/v1/subscription/quote": (
        "quoteSubscriptionChange", "Previews a change of seats, plan or interval: the prorated "
        "lines and total, exact to the minor unit. Changes nothing."),
    "POST /api/v1/subscription/change": (
        "changeSubscription", "Changes seats, plan or interval now: answers the subscription, the "
        "prorated lines and the invoice."),
    "POST /api/v1/subscription/cancel": ("cancelSubscription", "Stops renewal at the end of the period."),
    "POST /api/v1/subscription/resume": ("resumeSubscription", "Undoes a cancel before the period ends."),
    "POST /api/v1/subscription/credit/payout": (
        "payOutCredit", "Always refused (409 `payout_refused`): credit is kept for later invoices, "
        "never paid out."),
    "GET /api/v1/invoices": ("listInvoices", "The tenant's invoices, newest first, a page at a time."),
    "GET /api/v1/invoices/{invoice_id}/pdf": ("getInvoicePdf", "One invoice as a PDF document."),
    "POST /api/v1/subscription/checkout": (
        "startCheckout", "Starts Buy Now's hosted checkout, which collects a payment method; "
        "answers the URL to send the user to."),
    "GET /api/v1/subscription/portal": (
        "getBillingPortal", "A link to the payment provider's portal, where cards are updated."),
    "POST /api/v1/subscription/activate": (
        "activateOnline", "Activates an on-premises tenant online with its subscription id."),
    "POST /api/v1/subscription/activation/refresh": (
        "refreshActivation", "Asks the licence service for the current entitlement now."),
    "GET /api/v1/subscription/server-id": (
        "getServerId", "This server's id, for support to issue an offline activation file."),
    "GET /api/v1/subscription/activation": (
        "getActivation", "How this tenant is activated (online, file, none), with warnings."),
    "POST /api/v1/subscription/activation-file": (
        "uploadActivationFile", "Installs a signed offline activation file (the raw body)."),
    "POST /api/v1/licence-service/entitlements": (
        "getEntitlement", "For on-premises servers: their entitlement for a subscription id. "
        "Unknown ids are limited per address (429)."),
    "POST /api/v1/tracking/start": (
        "startTimer", "Starts the timer on a work item (stopping a running one into a worklog)."),
    "POST /api/v1/tracking/stop": ("stopTimer", "Stops the timer; answers the worklog it made."),
    "GET /api/v1/tracking/current": (
        "getCurrentTimer", "The running timer, if any, and when the next activity check is due."),
    "POST /api/v1/tracking/activity-check": (
        "confirmActivity", "Confirms 'still working', or defers the check (an hour, tomorrow, next Monday)."),
    "GET /api/v1/tracking/events": (
        "streamTimerEvents", "Server-sent events (`text/event-stream`): the timer now and on every "
        "change, from any device."),
    "GET /api/v1/tracking/preferences": ("getTrackingPreferences", "Your time zone and stop mails."),
    "PUT /api/v1/tracking/preferences": ("setTrackingPreferences", "Sets your time zone and stop mails."),
    "GET /api/v1/worklogs": (
        "listWorklogs", "Worklogs, your own unless `user` is given (with the right to view others'), "
        "oldest first, a page at a time."),
    "GET /api/v1/worklogs/all": (
        "listTeamWorklogs", "Everyone's worklogs (Product, Budget, Administrators and approval "
        "managers), filtered by users, dates, work items, iterations, budgets, activity types, "
        "billable, approval state and created/edited dates, a page at a time; with `group_by` "
        "(one or two levels) the totals per group instead (tracked, billable, amount)."),
    "POST /api/v1/worklogs/batch": (
        "createWorklogBatch", "Logs up to 5,000 worklogs at once, all or nothing: one bad line, "
        "locked week or foreign user and nothing is stored; the answer names every offending "
        "line with its reason. Audited once with the count."),
    "PATCH /api/v1/worklogs/batch": (
        "changeWorklogBatch", "Sets billable, the billable length, the activity type, the budget, the "
        "work item or the comment on up to 5,000 worklogs, all or nothing: an unknown id, one not "
        "yours to change, one in a locked week or a bad value and nothing changes; the answer names "
        "every offending id. Audited once with the count."),
    "GET /api/v1/import-jobs/{job_id}": (
        "getWorklogImport", "A background import's state (queued, checking, storing, done, failed), "
        "rows done of the total, worklogs imported and, when refused, every bad line. Your own only."),
    "GET /api/v1/explorer/views": ("listExplorerViews", "Your saved Times Explorer views."),
    "POST /api/v1/explorer/views": (
        "saveExplorerView", "Saves the Times Explorer's filters, columns and grouping under a name "
        "of your own (409 when you have used it)."),
    "DELETE /api/v1/explorer/views/{view_id}": ("deleteExplorerView", "Deletes one of your saved views."),
    "POST /api/v1/worklogs/batch-delete": (
        "deleteWorklogBatch", "Deletes the worklogs named, all or nothing: an unknown or foreign "
        "id, or one in a locked week, and nothing is deleted; the answer names every offending id."),
    "GET /api/v1/worklogs/{worklog_id}/history": (
        "getWorklogHistory", "Every add, edit and delete of a worklog (a deleted one's too), oldest "
        "first, with who, when, from where and the fields' values before and after."),
    "DELETE /api/v1/users/{user_id}": (
        "deactivateUser", "Deactivates a user: their worklogs stay, their seat is freed and every token "
        "of theirs is refused at once. Not yourself, not the last Administrator (409)."),
    "POST /api/v1/users/roles": (
        "setUserRoles", "Sets the role and/or licence of many users, all or none; licensing checks the "
        "seats for the whole batch (409 seat_limit says how many are needed and free)."),
    "GET /api/v1/settings/editing": (
        "getEditingRule", "Who may edit other people's time: administrators, approval_managers or product."),
    "PUT /api/v1/settings/editing": (
        "setEditingRule", "Sets who may edit other people's time (the default: administrators)."),
    "POST /api/v1/worklogs": (
        "createWorklog", "Logs time by hand. A week that is approved or closed is locked (423); a "
        "plan's worklog limit asks for payment (402). Safe to retry with an Idempotency-Key."),
    "PATCH /api/v1/worklogs/{worklog_id}": (
        "changeWorklog", "Changes a worklog's time, length, work item, comment or activity type."),
    "DELETE /api/v1/worklogs/{worklog_id}": ("deleteWorklog", "Deletes a worklog in an open week."),
    "GET /api/v1/worklogs/export": ("exportWorklogs", "Worklogs as CSV or Excel (`format=csv|xlsx`)."),
    "POST /api/v1/worklogs/import": (
        "importWorklogs", "Imports worklogs from CSV or Excel, all or nothing: a 422 names each bad "
        "line and stores nothing."),
    "GET /api/v1/timesheet": (
        "getTimesheet", "The week grid (`week=YYYY-Www`) or the monthly calendar (`month=YYYY-MM`) "
        "with totals."),
    "POST /api/v1/weeks/{week}/submit": ("submitWeek", "Submits your week for approval."),
    "POST /api/v1/weeks/{week}/approve": ("approveWeek", "Approves a submitted week, which locks it."),
    "POST /api/v1/weeks/{week}/reject": (
        "rejectWeek", "Sends a submitted (or approved) week back to its owner with a required note."),
    "POST /api/v1/weeks/{week}/close": ("closeWeek", "Closes a week, which locks it."),
    "POST /api/v1/weeks/{week}/reopen": ("reopenWeek", "Reopens an approved or closed week."),
    "DELETE /api/v1/weeks/{week}/submission": (
        "revokeWeekSubmission", "The owner takes back a submission nobody has decided yet."),
    "GET /api/v1/approvals": (
        "listApprovals", "The weeks you may decide (`state`, `week`, `user`), with their totals."),
    "GET /api/v1/users/{user_id}/approvers": ("getUserApprovers", "The users who decide this user's weeks."),
    "PUT /api/v1/users/{user_id}/approvers": ("setUserApprovers", "Replaces the user's approvers."),
    "GET /api/v1/settings/approval": (
        "getApprovalSettings", "The approval start date and the automatic lock after a week ends."),
    "PUT /api/v1/settings/approval": (
        "setApprovalSettings", "Changes the approval start date and the automatic lock (audited)."),
    "GET /api/v1/settings/tracking": ("getTrackingSettings", "The tenant's tracking rules and lock date."),
    "PUT /api/v1/settings/tracking": ("setTrackingSettings", "Changes the tracking rules and the lock date."),
    "GET /api/v1/settings/devops": (
        "getDevOpsSettings", "The tenant's work-item connector (never the access token)."),
    "PUT /api/v1/settings/devops": (
        "setDevOpsSettings", "Chooses the work-item connector: standalone or Azure DevOps."),
    "GET /api/v1/work-items/sync": ("getWorkItemSync", "Where the Azure DevOps work-item sync got to."),
    "POST /api/v1/work-items/sync": ("syncWorkItems", "Queues a sync of the work items from Azure DevOps."),
    "GET /api/v1/settings/work-item-automation": (
        "getWorkItemAutomation", "How time tracking writes Completed and Remaining Work back."),
    "PUT /api/v1/settings/work-item-automation": (
        "setWorkItemAutomation", "Changes how time tracking writes Completed and Remaining Work back."),
    "GET /api/v1/work-items": (
        "listWorkItems", "The tenant's work items in id order, filtered by search, state, type, "
        "iteration, assignee or parent, a page at a time."),
    "POST /api/v1/work-items": (
        "createWorkItem", "Creates a work item (standalone mode; 409 `managed_by_devops` otherwise)."),
    "GET /api/v1/work-items/{item_id}": (
        "getWorkItem", "One work item with the time tracked on it and on its descendants."),
    "PATCH /api/v1/work-items/{item_id}": (
        "changeWorkItem", "Changes a work item (standalone mode; 409 `managed_by_devops` otherwise)."),
    "GET /api/v1/iterations": (
        "listIterations", "The tenant's iterations by start date (undated last), a page at a time."),
    "POST /api/v1/iterations": ("createIteration", "Creates an iteration (standalone mode)."),
    "GET /api/v1/iterations/{iteration_id}/burndown": (
        "getIterationBurndown", "An iteration's burndown: per day, Remaining and Completed Work summed "
        "over its items (the last value known that day) and the ideal line; 422 for an undated iteration."),
    "GET /api/v1/activity-types": (
        "listActivityTypes", "The tenant's activity types (active ones; Administrators may ask for "
        "inactive ones too)."),
    "POST /api/v1/activity-types": ("createActivityType", "Adds an activity type with its colour and rate."),
    "PATCH /api/v1/activity-types/{activity_type_id}": (
        "changeActivityType", "Renames, recolours, reprices or (de)activates an activity type."),
    "GET /api/v1/user-rates": ("listUserRates", "Every user's hourly rate."),
    "PUT /api/v1/user-rates/{user_id}": ("setUserRate", "Sets or removes a user's hourly rate."),
    "GET /api/v1/budgets": (
        "listBudgets", "Budgets by name, a page at a time (the Team role sees only those its own "
        "worklogs hit)."),
    "POST /api/v1/budgets": ("createBudget", "Adds a budget: an amount or hours over a period."),
    "GET /api/v1/budgets/{budget_id}": ("getBudget", "One budget with its assignments."),
    "PATCH /api/v1/budgets/{budget_id}": ("changeBudget", "Changes a budget; `open: false` closes it."),
    "POST /api/v1/budgets/{budget_id}/assign": (
        "assignBudget", "Assigns iterations, work items and single worklogs to the budget."),
    "POST /api/v1/budgets/{budget_id}/unassign": (
        "unassignBudget", "Removes this budget's direct assignments."),
    "GET /api/v1/budgets/{budget_id}/usage": (
        "getBudgetUsage", "Usage over a period (the Team role: its own time only)."),
    "GET /api/v1/budgets/{budget_id}/statement": (
        "getBudgetStatement", "The monthly chargeback statement as JSON, CSV or Excel."),
    "POST /api/v1/operator/auth/token": (
        "operatorSignIn", "Trades an operator's credentials for an operator access token."),
    "GET /api/v1/operator/me/second-factor": (
        "getOperatorSecondFactor", "Whether the operator has a second factor."),
    "POST /api/v1/operator/me/second-factor": (
        "startOperatorSecondFactor", "Starts enrolling the operator's TOTP second factor."),
    "POST /api/v1/operator/me/second-factor/confirm": (
        "confirmOperatorSecondFactor", "Confirms the operator's second factor; answers recovery codes."),
    "GET /api/v1/operator/tenants": ("listTenants", "Every tenant with its subscription, a page at a time."),
    "POST /api/v1/operator/tenants/{slug}/trial": ("changeTrial", "Extends or ends a tenant's trial."),
    "POST /api/v1/operator/tenants/{slug}/uninstall": (
        "uninstallTenant", "Uninstalls a tenant; its data is kept for reinstalling."),
    "POST /api/v1/operator/tenants/{slug}/reinstall": ("reinstallTenant", "Reinstalls a tenant, unchanged."),
    "POST /api/v1/operator/tenants/{slug}/invoices/{invoice_id}/paid": (
        "markInvoicePaid", "Marks a tenant's invoice paid (money received outside the provider)."),
    "GET /api/v1/operator/plans": ("listPlans", "The plans catalogue with prices in minor units."),
    "PUT /api/v1/operator/plans": ("putPlans", "Adds or replaces plans in the catalogue."),
    "POST /api/v1/operator/activation-files": (
        "issueActivationFile", "Issues a signed offline activation file for a server id."),
    "POST /webhooks/stripe": (
        "receiveStripeEvent", "Stripe's events, verified by their signature header (no bearer token)."),
    "GET /api/odata/v1": (
        "getReportingService", "The Reporting API's OData v4 service document: its entity sets. "
        "Answers and errors are OData's (`OData-Version: 4.0`; errors `{error: {code, message}}`)."),
    "GET /api/odata/v1/$metadata": (
        "getReportingMetadata", "The CSDL (XML, OData 4.0) of the entity sets: types, keys, navigation "
        "properties and the Aggregation vocabulary's ApplySupported."),
    "GET /api/odata/v1/{entity_set}": (
        "queryReportingSet", "Rows of an entity set by OData's options ($filter, $select, $orderby, $top, "
        "$skip, $count, $expand, $apply); server-driven paging with `@odata.nextLink` "
        "(`Prefer: odata.maxpagesize=N`). See docs/reporting.md."),
    "GET /api/odata/v1/{entity_set}({key})": (
        "getReportingEntity", "One entity of a set by its key (`workItems(42)`, `users('…')`); $select "
        "and $expand apply."),
    "POST /api/odata/v1/{entity_set}/$query": (
        "postReportingQuery", "As `queryReportingSet`, with the options in the body (text/plain, a query "
        "string) for queries too long for a URL."),
    "GET /api/v1/me/apps": (
        "listMyApps", "The OAuth apps (grants) and personal access tokens that can act for the caller: "
        "name, scopes, created, last used, from where."),
    "DELETE /api/v1/me/apps/{app_id}": (
        "revokeMyApp", "Revokes one of the caller's app grants (every token of it) or personal access "
        "tokens; their access tokens are refused on their next request."),
    "POST /api/v1/me/apps/revoke-all": (
        "unpairAllApps", "\"Unpair all apps\": every app grant of the caller is revoked, in every process "
        "on the next request (personal access tokens are kept)."),
    "GET /api/v1/apps": ("listTenantApps", "The third-party apps the tenant's admins registered."),
    "POST /api/v1/apps": (
        "registerTenantApp", "Registers a third-party app for this tenant's users: public (PKCE only) or "
        "confidential (its secret is in this answer once). Redirect URIs match exactly."),
    "PATCH /api/v1/apps/{client_id}": (
        "setTenantAppDisabled", "Disables an app for everybody (every grant to it is revoked) or enables "
        "it again."),
    "POST /oauth/token": (
        "oauthToken", "OAuth 2.0 token endpoint (RFC 6749 §3.2), form-encoded: `authorization_code` "
        "(with the PKCE `code_verifier`), `refresh_token` (rotated; a reused one revokes the grant) and "
        "`urn:ietf:params:oauth:grant-type:device_code` (RFC 8628). Clients authenticate as OAuth "
        "says (public: `client_id`; confidential: HTTP Basic or `client_secret`); errors are OAuth's "
        "JSON (`invalid_grant`, `authorization_pending`, `slow_down` …). docs/apps.md."),
    "POST /oauth/device_authorization": (
        "oauthDeviceAuthorization", "Starts a device authorization (RFC 8628 §3.1): a `device_code` "
        "to poll the token endpoint with and a `user_code` the person types on `/device`."),
    "POST /oauth/revoke": (
        "oauthRevoke", "Revokes an app's refresh or access token (RFC 7009): the whole grant ends."),
    "GET /.well-known/oauth-authorization-server": (
        "oauthServerMetadata", "The authorization server's metadata (RFC 8414): endpoints, scopes, "
        "grant types, S256."),
}

#: The Reporting API's routes answer OData's JSON errors, not problems.
ODATA_PREFIX = "/api/odata/v1"

#: Statuses an operation answers beyond those its route shape implies (see ``_statuses``):
#: domain conflicts (409) and locked weeks (423) come from the operation's own rules.
EXTRA_STATUSES: dict[str, tuple[str, ...]] = {
    "POST /api/v1/worklogs/batch": ("409", "423"),
    "POST /api/v1/worklogs/batch-delete": ("423",),
    "PATCH /api/v1/worklogs/batch": ("409", "423"),
    "POST /api/v1/explorer/views": ("409",),
    "POST /api/v1/signup": ("409",),
    "POST /api/v1/operator/tenants/{slug}/purge": ("409",),
    "POST /api/v1/users": ("409",),
    "PATCH /api/v1/users/{user_id}": ("409",),
    "DELETE /api/v1/users/{user_id}": ("409",),
    "POST /api/v1/users/roles": ("409",),
    "POST /api/v1/subscription/purchase": ("409",),
    "POST /api/v1/subscription/change": ("409",),
    "POST /api/v1/subscription/cancel": ("409",),
    "POST /api/v1/subscription/resume": ("409",),
    "POST /api/v1/subscription/credit/payout": ("409",),
    "DELETE /api/v1/me/second-factor": ("409",),
    "POST /api/v1/me/second-factor": ("409",),
    "POST /api/v1/me/second-factor/confirm": ("429",),
    "POST /api/v1/operator/me/second-factor/confirm": ("429",),
    "POST /api/v1/tracking/start": ("423",),
    "POST /api/v1/tracking/stop": ("423",),
    "POST /api/v1/worklogs": ("402", "409", "423"),
    "PATCH /api/v1/worklogs/{worklog_id}": ("409", "423"),
    "DELETE /api/v1/worklogs/{worklog_id}": ("423",),
    "POST /api/v1/worklogs/import": ("423",),
    "POST /api/v1/weeks/{week}/submit": ("409", "423"),
    "POST /api/v1/weeks/{week}/approve": ("409", "423"),
    "POST /api/v1/weeks/{week}/reject": ("409",),
    "POST /api/v1/weeks/{week}/close": ("409", "423"),
    "POST /api/v1/weeks/{week}/reopen": ("409",),
    "DELETE /api/v1/weeks/{week}/submission": ("409",),
    "POST /api/v1/work-items": ("409",),
    "PATCH /api/v1/work-items/{item_id}": ("409",),
    "POST /api/v1/iterations": ("409",),
    "POST /api/v1/activity-types": ("409",),
    "PATCH /api/v1/activity-types/{activity_type_id}": ("409",),
    "POST /api/v1/budgets": ("409",),
    "PATCH /api/v1/budgets/{budget_id}": ("409",),
    "POST /api/v1/budgets/{budget_id}/assign": ("409",),
    "POST /api/v1/work-items/sync": ("409",),
    "POST /api/v1/operator/tenants/{slug}/trial": ("409",),
    "POST /api/v1/operator/tenants/{slug}/uninstall": ("409",),
    "POST /api/v1/operator/tenants/{slug}/reinstall": ("409",),
    "POST /api/v1/operator/tenants/{slug}/invoices/{invoice_id}/paid": ("409",),
    # An event whose signature, timestamp or shape is refused; 404 where webhooks are not set up.
    "POST /webhooks/stripe": ("400", "404"),
}

_PROBLEM_DESCRIPTIONS = {
    "400": "The body could not be read (broken JSON, a bad form).",
    "401": "No valid token: missing, expired or revoked (`invalid_token`, `token_revoked`).",
    "402": "Payment required: the trial or subscription ended, or a plan limit was reached.",
    "403": "Forbidden: the role lacks the permission, no seat, a second factor is required, or the "
           "personal access token lacks the route's scope (`insufficient_scope`).",
    "404": "Not found in this tenant (other tenants' records look exactly the same).",
    "409": "Conflict with the current state (the `code` names which).",
    "422": "Invalid input; `errors[]` names the fields.",
    "423": "Locked: the week is approved or closed, or before the lock date.",
    "429": "Too many requests: wait `Retry-After` seconds.",
}

#: One example problem per status, as ``web/problems.py`` answers them.
_PROBLEM_EXAMPLES = {
    "400": ("invalid_body", "the request body is not valid JSON"),
    "401": ("invalid_token", "send an access token: Authorization: Bearer <token>"),
    "402": ("trial_expired", "The trial has ended: buy a subscription to go on tracking time."),
    "403": ("not_permitted", "Your role may not do this."),
    "404": ("not_found", "Nothing is here."),
    "409": ("conflict", "This conflicts with the current state."),
    "422": ("validation_error", "invalid value for length_s: Expected `int >= 1`"),
    "423": ("week_locked", "The week 2026-W02 is approved and locked."),
    "429": ("rate_limited", "Too many failed sign-ins for this account: try again later."),
}

#: Security scheme name → (HTTP auth scheme, bearer format, description).
SECURITY_SCHEMES: dict[str, tuple[str, str | None, str]] = {
    "accessToken": ("bearer", "JWT", "A tenant user's access token from `signIn` or `refreshToken`."),
    "personalAccessToken": ("bearer", "opaque", "A personal access token from `createAccessToken`."),
    "operatorToken": ("bearer", "JWT", "An operator's access token from `operatorSignIn`."),
    "reportingBasic": ("basic", None, "HTTP Basic with an e-mail and a personal access token, for reporting "
                                      "tools (Excel, Power BI) that cannot send a bearer token."),
}


def _statuses(key: str, handler: Any, secured: bool, has_path_params: bool, has_body: bool) -> list[str]:
    """The problem statuses an operation can answer, from how its route is built."""
    from web.access import ACCESS_OPT
    from web.security import limit_per_client, limit_signups_per_client

    found: set[str] = set(EXTRA_STATUSES.get(key, ()))
    guards = handler.resolve_guards()
    if secured:
        found |= {"401"}
    if any(getattr(g, ACCESS_OPT, None) is not None for g in guards):
        # The access decision (web/access.py): 402 when payment is due, 403 otherwise.
        found |= {"402", "403"}
    elif secured:
        found |= {"403"}  # a required second factor not set up, an uninstalled tenant
    if any(g in (limit_per_client, limit_signups_per_client) for g in guards):
        found.add("429")
    if has_path_params:
        found.add("404")
    if has_body:
        found.add("400")
    return sorted(found)


def _handlers(app: Any) -> dict[str, Any]:
    from litestar.routes import HTTPRoute

    found: dict[str, Any] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    found[f"{method} {route.path_format}"] = handler
    return found


def _security(path: str, handler: Any) -> list[dict[str, list[str]]]:
    if handler.opt.get("exclude_from_auth") or not path.startswith("/api/"):
        return []
    if path.startswith("/api/v1/operator/"):
        return [{"operatorToken": []}]
    # A personal access token needs the route's scope (OAS 3.1 lets a non-OAuth scheme list
    # the roles it requires); a sign-in's access token has every scope.
    scope = _scope(path, handler)
    needed = [scope] if scope else []
    if path.startswith("/api/odata/"):
        return [{"accessToken": []}, {"personalAccessToken": needed}, {"reportingBasic": needed}]
    return [{"accessToken": []}, {"personalAccessToken": needed}]


def _scope(path: str, handler: Any) -> str | None:
    from web.access import declared_scope

    found = declared_scope(handler, path)
    return found.value if found is not None else None


def document_operations(app: Any, operations: dict[str, tuple[str, str]] = OPERATIONS) -> None:
    """Ids, descriptions, security and problem answers for every operation (run after
    ``document_problems`` and before ``document_links``, which names operations by id)."""
    from litestar._openapi.plugin import OpenAPIPlugin
    from litestar.openapi.spec import Components, SecurityScheme

    openapi = app.plugins.get(OpenAPIPlugin).provide_openapi()
    openapi.components = openapi.components or Components()
    openapi.components.security_schemes = {
        name: SecurityScheme(type="http", scheme=scheme, bearer_format=bearer_format, description=description)
        for name, (scheme, bearer_format, description) in SECURITY_SCHEMES.items()
    }
    handlers = _handlers(app)
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            key = f"{method.upper()} {path}"
            if key not in handlers:
                continue  # a path this module added (the entity path below), documented already
            operation.operation_id, operation.description = operations.get(key) or _fallback(key, operation)
            handler = handlers[key]
            if path.startswith(OAUTH_PREFIXES):
                # OAuth's own endpoints answer OAuth's JSON errors, which its clients read.
                operation.security = []
                _add_oauth_errors(operation, key)
                continue
            operation.security = _security(path, handler)
            scope = _scope(path, handler) if operation.security else None
            if scope and "Token scope:" not in (operation.description or ""):
                operation.description = f"{operation.description} Token scope: `{scope}`."
            has_path_params = "{" in path
            has_body = operation.request_body is not None
            statuses = _statuses(key, handler, bool(operation.security), has_path_params, has_body)
            if path.startswith(ODATA_PREFIX):
                _document_odata(operation, statuses)
            else:
                _add_problems(operation, statuses)
    _add_entity_path(openapi, operations)
    add_examples(openapi)


_ODATA_ERRORS = {
    "400": "The query cannot be run: an unknown property, option or entity set, a malformed or too "
           "large expression, a `$skiptoken` of another query, user or tenant, or a query that took "
           "too long.",
    "404": "No such entity set, or no entity with that key (that the caller may see).",
    "501": "An OData feature Stint does not implement (a function, a transformation, arithmetic).",
}


def _document_odata(operation: Any, statuses: list[str]) -> None:
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
            description=_ODATA_ERRORS.get(status) or _PROBLEM_DESCRIPTIONS.get(status, "An OData error"),
            content={"application/json": OpenAPIMediaType(schema=error)},
        )
    if operation.operation_id == "postReportingQuery":
        operation.request_body = RequestBody(
            required=True, description="The query options as a query string: `$filter=…&$top=10`",
            content={"text/plain": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
        )
    operation.responses = responses


def _add_entity_path(openapi: Any, operations: dict[str, tuple[str, str]]) -> None:
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


def _fallback(key: str, operation: Any) -> tuple[str, str]:
    """A route not in the table yet still gets a camelCase id (``postWorklogsBatch``) and its
    summary as description; ``undocumented`` names it so a test asks for a real entry."""
    method, path = key.split(" ", 1)
    words = [w for w in re.split(r"[/{}_-]+", path.removeprefix("/api/v1")) if w]
    operation_id = method.lower() + "".join(w[:1].upper() + w[1:] for w in words)
    return operation_id, operation.description or operation.summary or operation_id


def undocumented(
    app: Any, operations: dict[str, tuple[str, str]] = OPERATIONS
) -> tuple[list[str], list[str]]:
    """(operations missing from ``operations``, entries naming no operation) for ``app``."""
    from litestar._openapi.plugin import OpenAPIPlugin

    paths = app.plugins.get(OpenAPIPlugin).provide_openapi().paths or {}
    served = {
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method in ("get", "put", "post", "delete", "patch")
        if getattr(item, method, None) is not None
    }
    return sorted(served - set(operations)), sorted(set(operations) - served)


#: The authorization server's endpoints (web/api/oauth.py): OAuth's errors, not problem+json.
OAUTH_PREFIXES = ("/oauth/", "/.well-known/oauth-authorization-server")


def _add_oauth_errors(operation: Any, key: str) -> None:
    from litestar.openapi.spec import Example, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Schema

    responses = {k: v for k, v in (operation.responses or {}).items() if not k.startswith(("4", "5"))}
    if key.startswith("POST "):
        errors = {
            "400": ("An OAuth error (RFC 6749 §5.2): invalid_request, invalid_grant, "
                    "unsupported_grant_type, authorization_pending, slow_down, expired_token, "
                    "access_denied …", "invalid_grant"),
            "401": ("invalid_client: the client is unknown, disabled, or its secret is wrong",
                    "invalid_client"),
        }
        for status, (description, error) in errors.items():
            example = {"error": error, "error_description": "Invalid 'code' in request."}
            body = OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.OBJECT, required=["error"], properties={
                    "error": Schema(type=OpenAPIType.STRING),
                    "error_description": Schema(type=OpenAPIType.STRING),
                }),
                examples={"error": Example(value=example)},
            )
            responses[status] = OpenAPIResponse(description=description, content={"application/json": body})
    answer = _OAUTH_ANSWERS.get(key)
    if answer is not None:
        properties, example = answer
        schema = Schema(type=OpenAPIType.OBJECT, required=sorted(example),
                        properties={k: Schema(type=OpenAPIType(v)) for k, v in properties.items()})
        responses["200"] = OpenAPIResponse(description="OK", content={"application/json": OpenAPIMediaType(
            schema=schema, examples={"answer": Example(value=example)})})
    operation.responses = dict(sorted(responses.items()))


_OAUTH_ANSWERS: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "POST /oauth/token": (
        {"access_token": "string", "token_type": "string", "expires_in": "integer", "refresh_token": "string",
         "scope": "string"},
        {"access_token": "eyJhbGciOiJIUzI1NiIs…", "token_type": "Bearer", "expires_in": 900,
         "refresh_token": "stint_rt_…", "scope": "tracking worklogs:read"},
    ),
    "POST /oauth/device_authorization": (
        {"device_code": "string", "user_code": "string", "verification_uri": "string",
         "verification_uri_complete": "string", "expires_in": "integer", "interval": "integer"},
        {"device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS", "user_code": "WDJB-MJHT",
         "verification_uri": "https://stint.example/device",
         "verification_uri_complete": "https://stint.example/device?user_code=WDJB-MJHT",
         "expires_in": 600, "interval": 5},
    ),
}


def _add_problems(operation: Any, statuses: list[str]) -> None:
    from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Reference

    from web.problems import PROBLEM_JSON, PROBLEM_REF

    responses = operation.responses or {}
    for status in statuses:
        if status not in responses:
            responses[status] = OpenAPIResponse(
                description=_PROBLEM_DESCRIPTIONS[status],
                content={PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref=PROBLEM_REF))},
            )
    operation.responses = dict(sorted(responses.items()))


# Examples: every JSON body, request and answer, carries one ---------------------------------
#
# Written by hand where a made-up value would mislead (money, sign-in); elsewhere built from
# the schema with values a reader recognises (a date-time, an e-mail, a week), so each example
# is valid against its schema: the linter checks that (tests/integration/test_openapi_lint.py).

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


def _problem_example(status: str) -> dict[str, Any]:
    from web.problems import problem_title

    code, detail = _PROBLEM_EXAMPLES.get(status, ("error", "Something is wrong."))
    return {
        "type": f"https://stint.dev/problems/{code.replace('_', '-')}",
        "title": problem_title(int(status)), "status": int(status), "detail": detail, "code": code,
    }


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
                value, summary = _problem_example(status), _PROBLEM_DESCRIPTIONS.get(status)
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
